"""Shipping: a recording host's raw lines to a shared lake in an object store, exactly once.

Modules:

- ``shipper``: ``ship`` and ``Shipper``: the new complete lines of each local segment ->
  immutable objects named by table, date, host, segment and start offset, each created with
  ``If-None-Match``; progress is rebuilt from the bucket, so a killed or repeated shipper
  neither loses nor duplicates.

Owns nothing on the local disk but ``ship.json`` (the lake's host id and destination, kept by
``runlake.storage.shipping``); on the shared lake it owns ``raw/``. Imports
``runlake.compaction`` (the same pending-bytes reading compaction uses), ``runlake.append``
and ``runlake.storage``. The recording path never imports it.
"""

from __future__ import annotations

from runlake.ship.shipper import MAX_OBJECT_BYTES, Shipper, ShipResult, ship

__all__ = ["MAX_OBJECT_BYTES", "ShipResult", "Shipper", "ship"]
