#!/usr/bin/env python3
"""CDK entry point: `cdk synth|diff|deploy -c env=dev|staging|prod` (default dev). See README "Environments"."""

import sys

from aws_cdk import App

from infra.application import build_platform
from infra.config import ConfigError


def main() -> int:
    app = App()
    try:
        build_platform(app)
    except ConfigError as err:
        # One line, no traceback: the message names the field and the fix.
        print(f"error: {err}", file=sys.stderr)
        return 1
    app.synth()
    return 0


if __name__ == "__main__":
    sys.exit(main())
