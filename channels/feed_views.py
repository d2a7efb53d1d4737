"""`/feeds/<token>/<name>.<ext>`: catalog feeds the channels fetch. No login: the token is the key.

The token is looked up across shops (it names the account, and so the shop); everything
after runs in that shop's context, so a token of shop A can only ever read shop A's rows.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator

from django.http import Http404, HttpResponse, StreamingHttpResponse
from django.utils.http import http_date, parse_etags
from django.views.decorators.http import require_safe

from channels.feeds import CONTENT_TYPES, feed_fingerprint, feed_stream, resolve_feed
from channels.models import ChannelAccount
from channels.services import feed_fetch_record
from shopadmin.tenancy import all_shops_access, shop_context


def account_for_token(token: str) -> ChannelAccount | None:
    if not token or len(token) > 64:
        return None
    with all_shops_access():
        return (
            ChannelAccount.all_shops.select_related("shop")
            .filter(feed_token=token, is_active=True, shop__is_active=True)
            .first()
        )


def _in_shop(shop_id: int, chunks: Iterator[str]) -> Iterator[bytes]:
    # The response body is produced after the view returns: each step runs in the shop's context.
    iterator = iter(chunks)
    while True:
        with shop_context(shop_id):
            try:
                chunk = next(iterator)
            except StopIteration:
                return
        yield chunk.encode()


def _gzip(chunks: Iterator[bytes]) -> Iterator[bytes]:
    compressor = zlib.compressobj(6, zlib.DEFLATED, 31)  # 31: gzip container
    for chunk in chunks:
        data = compressor.compress(chunk)
        if data:
            yield data
    yield compressor.flush()


@require_safe
def feed(request, token: str, name: str):
    account = account_for_token(token)
    if account is None:
        raise Http404("No such feed.")
    with shop_context(account.shop_id):
        spec = resolve_feed(account, name)
        if spec is None:
            raise Http404("No such feed.")
        etag_value, last_modified = feed_fingerprint(account, spec)
        # The account page shows when each feed was last fetched, and by whom.
        feed_fetch_record(account=account, feed=name, user_agent=request.headers.get("User-Agent", ""))
    gzip = "gzip" in request.headers.get("Accept-Encoding", "")
    etag = f'"{etag_value}{"-gz" if gzip else ""}"'
    headers = {
        "ETag": etag,
        "Last-Modified": http_date(last_modified.timestamp()),
        "Vary": "Accept-Encoding",
        "Cache-Control": "private, max-age=300",
        "X-Robots-Tag": "noindex",
    }
    if_none_match = request.headers.get("If-None-Match")
    if if_none_match and (etag in parse_etags(if_none_match) or if_none_match.strip() == "*"):
        return HttpResponse(status=304, headers=headers)
    content_type = CONTENT_TYPES[spec.fmt]
    if request.method == "HEAD":
        return HttpResponse(content_type=content_type, headers=headers)
    body = _in_shop(account.shop_id, feed_stream(account, spec))
    if gzip:
        body = _gzip(body)
        headers["Content-Encoding"] = "gzip"
    return StreamingHttpResponse(body, content_type=content_type, headers=headers)
