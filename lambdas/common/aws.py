"""boto3 clients created on first use (not at import) so tests can start moto first and reset them between tests."""

import functools

import boto3


@functools.cache
def client(service: str):  # noqa: ANN201 - boto3 clients have no useful static type here
    return boto3.client(service)


def reset_clients() -> None:
    client.cache_clear()
