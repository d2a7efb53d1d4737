"""Meta's `products` value, read as its guide says: pairs split on ",", each on its last ":"."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from storefront.cart import (
    MAX_ITEMS,
    CartItem,
    availability_words,
    format_products,
    parse_products,
    products_set,
    products_with,
    products_without,
)


def items(raw):
    return [(i.retailer_id, i.quantity) for i in parse_products(raw).items]


def test_pairs_split_on_commas_and_each_on_its_last_colon():
    assert items("12345:3,23456:1") == [("12345", 3), ("23456", 1)]
    assert items("SHIRT:RED:L:2") == [("SHIRT:RED:L", 2)]
    assert items(" A:1 , B:2 ,") == [("A", 1), ("B", 2)]
    assert items("A:1,A:2") == [("A", 3)]  # the same item twice adds up


def test_what_cannot_be_read_is_left_out_and_said():
    parsed = parse_products("A,B:0,C:x,:4,D:1000,E:2")
    assert [(i.retailer_id, i.quantity) for i in parsed.items] == [("E", 2)]
    assert len(parsed.problems) == 5
    assert parse_products("").items == [] and parse_products(None).problems == []
    too_many = ",".join(f"S{n}:1" for n in range(MAX_ITEMS + 5))
    parsed = parse_products(too_many)
    assert len(parsed.items) == MAX_ITEMS and parsed.problems


def test_changing_the_cart_keeps_its_order():
    cart = [CartItem("A", 1), CartItem("B", 2)]
    assert format_products(products_with(cart, "A", 2)) == "A:3,B:2"
    assert format_products(products_with(cart, "C", 1)) == "A:1,B:2,C:1"
    assert format_products(products_set(cart, "A", 5)) == "A:5,B:2"
    assert format_products(products_set(cart, "A", 0)) == "B:2"
    assert format_products(products_without(cart, "B")) == "A:1"


def test_availability_never_says_a_count_above_five():
    assert availability_words(0)[0] == "sold_out"
    assert availability_words(5) == ("low", "Only 5 left")
    assert availability_words(6) == ("in_stock", "In stock")
    assert availability_words(10_000)[1] == "In stock"


@given(st.text(max_size=300))
def test_any_text_parses_without_raising(raw):
    parsed = parse_products(raw)
    assert all(1 <= item.quantity <= 999 and item.retailer_id for item in parsed.items)
    # What was read writes back to a value that reads the same.
    assert parse_products(format_products(parsed.items)).items == parsed.items
