"""Outbound HTTP that cannot be pointed at us: the guard every user-supplied URL goes through.

Users hand the platform URLs (``audio_url`` to fetch, webhook endpoints to call). Without a guard
those requests reach whatever the server can reach — loopback admin ports, the cloud metadata
service, the private network (server-side request forgery). ``addresses`` decides which IP
addresses are public; ``client`` makes requests whose every connection, including each redirect hop,
goes only to an address that was checked after resolution (no second lookup an attacker's DNS could
answer differently).
"""

from core.net.addresses import AddressNotAllowed, NetworkPolicy, check_public_url
from core.net.client import guarded_session, send_following_redirects

__all__ = [
    "AddressNotAllowed",
    "NetworkPolicy",
    "check_public_url",
    "guarded_session",
    "send_following_redirects",
]
