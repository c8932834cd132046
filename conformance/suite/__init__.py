"""The conformance suite: scenarios drive the monitor, checks judge the traces."""
