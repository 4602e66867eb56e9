#!/usr/bin/env python3
"""CDK entry point: `cdk synth|diff|deploy -c env=dev|staging|prod` (default dev). See README "Environments".

`-c pipeline=true` builds the delivery pipeline (every environment as a pipeline stage) instead: README "Deploy".
"""

import sys

from aws_cdk import App

from infra.application import build_platform
from infra.compliance import StaleAcknowledgment
from infra.config import ConfigError
from infra.pipeline import build_delivery_pipeline, wants_pipeline


def main() -> int:
    app = App()
    try:
        if wants_pipeline(app):
            build_delivery_pipeline(app)
        else:
            build_platform(app)
    except (ConfigError, StaleAcknowledgment) as err:
        # One line, no traceback: the message names the field (or acknowledgment) and the fix.
        print(f"error: {err}", file=sys.stderr)
        return 1
    app.synth()
    return 0


if __name__ == "__main__":
    sys.exit(main())
