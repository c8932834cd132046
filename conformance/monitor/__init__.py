"""The reference Resource Monitor: host interface, monitor, timers, trace."""
