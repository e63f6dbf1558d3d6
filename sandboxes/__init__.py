"""Offline simulators of the Procore, NetSuite and QuickBooks Online APIs.

Each sandbox core is a plain object with ``handle(httpx.Request) -> httpx.Response``: tests use it
in-process through ``httpx.MockTransport(sandbox.handle)``; ``python -m sandboxes serve`` serves the
same cores on loopback. Nothing in here imports the product (DESIGN.md §5).
"""
