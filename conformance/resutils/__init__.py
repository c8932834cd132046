"""What the Resource Utility library (ResUtils.dll) gives a Python resource DLL: worker
threads (docs/contract.md §3.5) and property tables that answer the private-property control codes
(§6.6, PL-9). Names and parameters follow resapi.h; out-parameters come back in a tuple."""

from conformance.resutils.properties import (
    RESUTIL_PROPERTY_ITEM,
    ResUtilEnumProperties,
    ResUtilGetAllProperties,
    ResUtilGetProperties,
    ResUtilGetPropertiesToParameterBlock,
    ResUtilGetPropertyFormats,
    ResUtilSetPropertyTable,
    ResUtilVerifyPropertyTable,
)
from conformance.resutils.workers import (
    CLUS_WORKER,
    ClusWorkerCheckTerminate,
    ClusWorkerCreate,
    ClusWorkerTerminate,
    observe_calls,
    report_call,
)

__all__ = [
    "CLUS_WORKER",
    "RESUTIL_PROPERTY_ITEM",
    "ClusWorkerCheckTerminate",
    "ClusWorkerCreate",
    "ClusWorkerTerminate",
    "ResUtilEnumProperties",
    "ResUtilGetAllProperties",
    "ResUtilGetProperties",
    "ResUtilGetPropertiesToParameterBlock",
    "ResUtilGetPropertyFormats",
    "ResUtilSetPropertyTable",
    "ResUtilVerifyPropertyTable",
    "observe_calls",
    "report_call",
]
