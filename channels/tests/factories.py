"""Valid credentials per channel for tests (not real secrets)."""

META_CREDENTIALS = {
    "catalog_id": "1234567890",
    "commerce_account_id": "5550001112",
    "access_token": "EAAB-test-access-token-meta-0001",
    "app_secret": "meta-app-secret-value-0001",
    "verify_token": "verify-me-please",
}
TIKTOK_CREDENTIALS = {
    "app_key": "29a39d",
    "app_secret": "tiktok-app-secret-value-0001",
    "access_token": "ROW_tiktok-access-token-0001",
    "shop_cipher": "GCP_XF90igAAAABh00qsWgtvOiGFNqyubMt3",
}
PINTEREST_CREDENTIALS = {"access_token": "pina_test-access-token-0001", "ad_account_id": "549755885175"}
SECRET_VALUES = [
    META_CREDENTIALS["access_token"],
    META_CREDENTIALS["app_secret"],
    META_CREDENTIALS["verify_token"],
    TIKTOK_CREDENTIALS["app_secret"],
    TIKTOK_CREDENTIALS["access_token"],
    PINTEREST_CREDENTIALS["access_token"],
]


def make_account(shop, channel="meta", name=None, credentials=None, **kwargs):
    from channels.services import channel_account_create
    from shopadmin.tenancy import shop_context

    defaults = {"meta": META_CREDENTIALS, "tiktok_shop": TIKTOK_CREDENTIALS, "pinterest": PINTEREST_CREDENTIALS}
    with shop_context(shop):
        return channel_account_create(
            shop=shop,
            channel=channel,
            name=name or f"{channel} account",
            credentials=credentials if credentials is not None else defaults.get(channel, {}),
            **kwargs,
        )
