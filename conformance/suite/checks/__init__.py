"""The checks, one module per contract area, each rule declared beside its check; importing
this package declares every rule."""

from conformance.suite.checks import (
    buffers,
    callbacks,
    control_codes,
    entry_points,
    health,
    instances,
    lifecycle,
    pending,
    process,
    properties,
    property_use,
    quorum,
    scripts,
    startup,
    terminate,
    timing,
)

#: The catalogue's order (`conformance.suite.catalogue`): these sections in turn, each with its
#: rules in the order its module declares them. The control-code section's checks judge both
#: control routines, so it lists ResourceControl's rules first, then ResourceTypeControl's.
SECTIONS = (
    (startup,),
    (lifecycle,),
    (pending,),
    (terminate,),
    (instances,),
    (callbacks,),
    (health,),
    (process,),
    (entry_points,),
    (timing,),
    (control_codes, buffers, properties),
    (property_use,),
    (scripts,),
    (quorum,),
)
