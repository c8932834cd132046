"""The base every layer may import: the trace's records, which threads are the harness's, and
the events a control script's engine reports. It imports nothing else of rescheck."""
