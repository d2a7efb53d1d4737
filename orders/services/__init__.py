"""Every write of the orders app, one module per kind of work:

- ``ingest``: orders as the channels report them (``order_import``, the upsert);
- ``stock``: stock held for an order's lines (package-private helpers);
- ``lifecycle``: fulfil, cancel, refund;
- ``pushes``: acknowledgements, fulfilments and cancellations sent back to the channel;
- ``timeline``: an order's timeline and the issues that ask a merchant to act;
- ``settings``: the shop's order settings;
- ``customers``: customer data rights and retention;
- ``discounts``: the merchant's discount codes (checkout's side is ``orders.discounts``).

Services are keyword-only, run in one transaction, validate, write the audit log and the
order's timeline, and schedule channel calls with ``transaction.on_commit``. They run in the
shop context (UI middleware, API key, task wrapper, webhook processing). Names starting with an
underscore are shared inside this package only.
"""
