"""`python -m tests.serve [serve ...]`: the service, serving the test probe resource
(tests/probe_resource.py) besides the resources of service/resources.py.

The template's own end-to-end tests run the server through this entry point
(ServerProcess(..., module=PROBE_SERVER)), so they do not depend on the example resource and
keep passing once it is removed. `serve --workers N` re-runs this module in every worker.
PROBE_RESOURCE=without-echo-scope serves a probe whose custom verb has no scope;
PROBE_RESOURCE=leaking-session-state one whose Echo leaves a SET on its pooled connection.
"""

from __future__ import annotations

import os
import sys

from service.__main__ import main
from service.resources import RESOURCES
from tests import probe_resource

VARIANTS = {
    "complete": probe_resource.RESOURCE,
    "without-echo-scope": probe_resource.WITHOUT_ECHO_SCOPE,
    "leaking-session-state": probe_resource.LEAKING_SESSION_STATE,
}

if __name__ == "__main__":
    probe = VARIANTS[os.environ.get("PROBE_RESOURCE", "complete")]
    sys.exit(main(resources=[*RESOURCES, probe]))
