"""Uploaded product images: Pillow checks in the service, the channel rendition, storage, serving,
and the same refusals in the merchant UI and the API."""

import io
import os
import subprocess
import sys
import time

import pytest
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from PIL import Image

from catalog import images, services
from catalog.errors import CatalogErrorCode
from catalog.models import ProductMedia
from catalog.tests.factories import make_product
from conftest import api_client_for
from shopadmin.tenancy import shop_context

pytestmark = pytest.mark.django_db


def picture(width=800, height=600, fmt="PNG", mode="RGB", colour=(200, 40, 40), **save) -> bytes:
    out = io.BytesIO()
    Image.new(mode, (width, height), colour if mode != "RGBA" else (*colour, 0)).save(out, fmt, **save)
    return out.getvalue()


def upload(data: bytes, name="photo.png", content_type="image/png"):
    return SimpleUploadedFile(name, data, content_type=content_type)


def error_code(exc: ValidationError, field="image") -> str:
    return exc.value.error_dict[field][0].code


@pytest.fixture
def product(shop_a):
    with shop_context(shop_a):
        yield make_product()


# --- The service ----------------------------------------------------------------------------


def test_a_real_image_is_stored_as_given_and_as_a_jpeg_rendition(product):
    media = services.media_add(product=product, image=upload(picture(800, 600)), alt_text="Red tee")
    media.refresh_from_db()
    assert media.original.name.endswith(".png") and "/original/" in media.original.name
    assert media.image.name.endswith(".jpg")
    assert default_storage.exists(media.original.name) and default_storage.exists(media.image.name)
    with default_storage.open(media.image.name) as f, Image.open(f) as stored:
        assert (stored.format, stored.mode, stored.size) == ("JPEG", "RGB", (800, 600))
    assert (media.width, media.height) == (800, 600)
    assert media.src == media.image.url
    # The uploader's file name never reaches the storage.
    assert "photo" not in media.image.name and "photo" not in media.original.name


def test_lists_get_a_small_copy_of_an_upload_and_of_nothing_else(product):
    media = services.media_add(product=product, image=upload(picture(1600, 1200)))
    with default_storage.open(media.thumbnail.name) as f, Image.open(f) as thumb:
        assert (thumb.format, thumb.size) == ("JPEG", (images.THUMBNAIL_MAX_SIDE, 180))
    assert media.thumbnail_src == media.thumbnail.url
    by_url = services.media_add(product=product, url="https://cdn.example.com/tee.jpg")
    assert by_url.thumbnail_src == "https://cdn.example.com/tee.jpg"  # nothing to shrink: the picture itself


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP", "GIF"])
def test_every_allowed_format_is_accepted(product, fmt):
    media = services.media_add(product=product, image=upload(picture(600, 600, fmt), name=f"x.{fmt.lower()}"))
    assert media.original.name.endswith("." + images.ALLOWED_FORMATS[fmt])


def test_a_text_file_named_png_is_refused(product):
    with pytest.raises(ValidationError) as exc:
        services.media_add(product=product, image=upload(b"just some text, not a picture\n" * 20, name="tee.png"))
    assert error_code(exc) == CatalogErrorCode.IMAGE_INVALID
    assert "not an image" in exc.value.message_dict["image"][0]
    assert not ProductMedia.objects.filter(product=product).exists()


def test_a_truncated_image_is_refused(product):
    data = picture(800, 800, "PNG", colour=(1, 2, 3))
    noisy = Image.frombytes("RGB", (800, 800), os.urandom(800 * 800 * 3))
    out = io.BytesIO()
    noisy.save(out, "PNG")
    data = out.getvalue()
    with pytest.raises(ValidationError) as exc:
        services.media_add(product=product, image=upload(data[: len(data) // 2]))
    assert error_code(exc) == CatalogErrorCode.IMAGE_INVALID


def test_a_format_that_is_not_allowed_is_refused(product):
    with pytest.raises(ValidationError) as exc:
        services.media_add(product=product, image=upload(picture(600, 600, "BMP"), name="x.png"))
    assert error_code(exc) == CatalogErrorCode.IMAGE_FORMAT_NOT_ALLOWED
    assert "BMP" in exc.value.message_dict["image"][0]


def test_a_file_over_the_byte_limit_is_refused(product, monkeypatch):
    data = picture(600, 600)
    monkeypatch.setattr(images, "MAX_BYTES", len(data) - 1)
    with pytest.raises(ValidationError) as exc:
        services.media_add(product=product, image=upload(data))
    assert error_code(exc) == CatalogErrorCode.IMAGE_FILE_TOO_LARGE


def test_too_many_pixels_are_refused_before_decoding(product):
    # 6000 x 5000 = 30 MP: a PNG of one colour is tiny on disk but huge once decoded.
    data = picture(6000, 5000, "PNG", mode="L", colour=0)
    assert len(data) < 200_000
    with pytest.raises(ValidationError) as exc:
        services.media_add(product=product, image=upload(data))
    assert error_code(exc) == CatalogErrorCode.IMAGE_TOO_MANY_PIXELS
    assert "6000 x 5000" in exc.value.message_dict["image"][0]


def test_a_decompression_bomb_is_refused_by_pillows_guard_too(product):
    # 12000 x 12000 = 144 MP, beyond Pillow's own error threshold (2 x MAX_IMAGE_PIXELS).
    data = picture(12000, 12000, "PNG", mode="1", colour=0)
    assert len(data) < 100_000
    with pytest.raises(ValidationError) as exc:
        services.media_add(product=product, image=upload(data))
    assert error_code(exc) == CatalogErrorCode.IMAGE_TOO_MANY_PIXELS
    assert Image.MAX_IMAGE_PIXELS == images.MAX_PIXELS


def test_an_image_under_the_channels_minimum_is_refused(product):
    with pytest.raises(ValidationError) as exc:
        services.media_add(product=product, image=upload(picture(499, 800)))
    assert error_code(exc) == CatalogErrorCode.IMAGE_TOO_SMALL
    assert "500 x 500" in exc.value.message_dict["image"][0]


def test_a_long_narrow_image_is_refused(product):
    with pytest.raises(ValidationError) as exc:
        services.media_add(product=product, image=upload(picture(2500, 600)))
    assert error_code(exc) == CatalogErrorCode.IMAGE_TOO_ELONGATED


def test_the_rendition_caps_the_longest_side_and_keeps_the_minimum():
    data = picture(5000, 1250, "JPEG")  # 6.25 MP, ratio 4: the extreme accepted shape
    info = images.check_image(upload(data, "x.jpg"))
    started = time.perf_counter()
    rendition, width, height = images.make_rendition(upload(data, "x.jpg"))
    elapsed = time.perf_counter() - started
    assert (width, height) == (2048, 512)
    assert min(width, height) >= images.MIN_SIDE
    assert info.format == "JPEG"
    assert len(rendition) < 10 * 1024 * 1024  # TikTok Shop's limit for a main image
    assert elapsed < 5


def test_the_rendition_applies_exif_orientation_and_strips_exif():
    exif = Image.Exif()
    exif[0x0112] = 6  # Orientation: rotate 90° clockwise to display
    exif[0x010F] = "Camera maker"
    data = picture(800, 600, "JPEG", exif=exif.tobytes())
    rendition, width, height = images.make_rendition(upload(data, "x.jpg"))
    assert (width, height) == (600, 800)
    with Image.open(io.BytesIO(rendition)) as result:
        assert result.size == (600, 800)
        assert not result.getexif()
        assert "exif" not in result.info


def test_transparency_becomes_a_white_background():
    rendition, _, _ = images.make_rendition(upload(picture(600, 600, "PNG", mode="RGBA")))
    with Image.open(io.BytesIO(rendition)) as result:
        r, g, b = result.getpixel((300, 300))
        assert min(r, g, b) > 245


def test_deleting_an_image_deletes_its_files(product, django_capture_on_commit_callbacks):
    media = services.media_add(product=product, image=upload(picture(600, 600)))
    names = [media.image.name, media.original.name, media.thumbnail.name]
    with django_capture_on_commit_callbacks(execute=True):
        services.media_delete(media=media)
    assert not any(default_storage.exists(name) for name in names)


def test_channels_get_the_rendition_url(product, settings):
    from channels.items import _first_images

    media = services.media_add(product=product, image=upload(picture(600, 600)))
    by_product, _ = _first_images([product.pk])
    assert by_product[product.pk] == settings.SITE_URL + media.image.url
    assert by_product[product.pk].endswith(".jpg")


# --- Serving --------------------------------------------------------------------------------


def test_an_uploaded_image_is_served_at_its_url(product):
    media = services.media_add(product=product, image=upload(picture(600, 600)))
    response = Client().get(media.src)
    assert response.status_code == 200
    assert response["Content-Type"] == "image/jpeg"
    with Image.open(io.BytesIO(b"".join(response.streaming_content))) as served:
        assert served.size == (600, 600)


@pytest.mark.parametrize("path", ["missing.png", "catalog/", "catalog", "../etc/passwd", "..%2f..%2fetc/passwd"])
def test_media_serving_answers_404_for_anything_else(path, product):
    services.media_add(product=product, image=upload(picture(600, 600)))  # the catalog folder exists
    assert Client().get(f"/media/{path}").status_code == 404


# --- Storage settings -----------------------------------------------------------------------


def _default_storage_class(**env) -> str:
    """The default storage's class and a URL from it, as the settings build them (no network)."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("MEDIA_STORAGE", "AWS_"))}
    environment.update(DEBUG="true", DJANGO_SETTINGS_MODULE="shopadmin.settings", **env)
    code = (
        "import django; django.setup(); from django.core.files.storage import storages; "
        "s = storages['default']; print(f'{type(s).__module__}.{type(s).__qualname__}', s.url('catalog/1/2/a.jpg'))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], env=environment, capture_output=True, text=True, timeout=60, check=True
    )
    return result.stdout.strip()


def test_media_storage_defaults_to_the_filesystem():
    assert _default_storage_class().startswith("django.core.files.storage.filesystem.FileSystemStorage /media/")


def test_media_storage_s3_selects_django_storages():
    out = _default_storage_class(
        MEDIA_STORAGE="s3",
        AWS_STORAGE_BUCKET_NAME="shop-media",
        AWS_S3_ENDPOINT_URL="http://127.0.0.1:9",
        AWS_S3_CUSTOM_DOMAIN="media.example.com",
    )
    assert out == "storages.backends.s3.S3Storage https://media.example.com/catalog/1/2/a.jpg"


# --- The merchant UI ------------------------------------------------------------------------


def test_ui_upload_shows_the_image_and_its_url_answers_200(alice_client, shop_a, product):
    url = reverse("catalog:media-add", args=[shop_a.slug, product.pk])
    response = alice_client.post(url, {"alt_text": "Red tee", "image": upload(picture(900, 700))})
    assert response.status_code == 302
    with shop_context(shop_a):
        media = ProductMedia.objects.get(product=product)
    page = alice_client.get(reverse("catalog:product-detail", args=[shop_a.slug, product.pk]))
    assert f'src="{media.src}"' in page.content.decode()
    assert 'width="900" height="700"' in page.content.decode()
    assert alice_client.get(media.src).status_code == 200
    # The product list shows the small copy, not the channels' picture.
    listing = alice_client.get(reverse("catalog:product-list", args=[shop_a.slug])).content.decode()
    assert f'src="{media.thumbnail.url}"' in listing and f'src="{media.src}"' not in listing
    assert alice_client.get(media.thumbnail.url).status_code == 200


def test_ui_refuses_a_text_file_named_png_with_a_field_error_and_keeps_the_input(alice_client, shop_a, product):
    url = reverse("catalog:media-add", args=[shop_a.slug, product.pk])
    response = alice_client.post(url, {"alt_text": "Red tee", "image": upload(b"hello", name="tee.png")})
    assert response.status_code == 400
    form = response.context["media_form"]
    assert form.errors["image"] == ["This file is not an image we can read. Upload a JPEG, PNG, WebP or GIF picture."]
    html = response.content.decode()
    assert "This file is not an image we can read." in html
    assert 'value="Red tee"' in html
    with shop_context(shop_a):
        assert not ProductMedia.objects.filter(product=product).exists()


# --- The API --------------------------------------------------------------------------------


def test_api_uploads_an_image(shop_a, product):
    api = api_client_for(shop_a)
    response = api.post(
        f"/api/v1/products/{product.pk}/media/",
        {"image": upload(picture(1200, 900)), "alt_text": "Red tee"},
        format="multipart",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["width"], body["height"], body["alt_text"]) == (1200, 900, "Red tee")
    assert body["src"].endswith(".jpg")
    assert Client().get(body["src"]).status_code == 200
    got = api.get(f"/api/v1/products/{product.pk}/").json()
    assert got["media"][0]["src"] == body["src"]


def test_api_adds_an_image_by_url(shop_a, product):
    api = api_client_for(shop_a)
    response = api.post(f"/api/v1/products/{product.pk}/media/", {"url": "https://example.com/tee.jpg"}, format="json")
    assert response.status_code == 201
    assert response.json()["src"] == "https://example.com/tee.jpg"
    assert response.json()["width"] is None


def test_api_refuses_a_text_file_named_png_as_problem_json(shop_a, product):
    api = api_client_for(shop_a)
    response = api.post(
        f"/api/v1/products/{product.pk}/media/", {"image": upload(b"hello", name="tee.png")}, format="multipart"
    )
    assert response.status_code == 400
    assert response["Content-Type"].startswith("application/problem+json")
    errors = response.json()["errors"]
    assert errors == [
        {
            "field": "image",
            "code": "image_invalid",
            "message": "This file is not an image we can read. Upload a JPEG, PNG, WebP or GIF picture.",
        }
    ]


def test_api_needs_an_image_or_a_url(shop_a, product):
    response = api_client_for(shop_a).post(f"/api/v1/products/{product.pk}/media/", {}, format="json")
    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "media_source_required"


def test_api_charlie_cannot_add_to_alices_product(shop_b, product):
    response = api_client_for(shop_b).post(
        f"/api/v1/products/{product.pk}/media/", {"url": "https://example.com/x.jpg"}, format="json"
    )
    assert response.status_code == 404


def test_demo_pictures_are_made_here_and_served(settings):
    from catalog.demo_images import demo_image_url

    url = demo_image_url("Navy", "http://127.0.0.1:8000")
    assert url == "http://127.0.0.1:8000/media/demo/navy.png"
    response = Client().get("/media/demo/navy.png")
    assert response.status_code == 200
    with Image.open(io.BytesIO(b"".join(response.streaming_content))) as served:
        assert served.size == (800, 1000)


def test_demo_and_catalog_seeding_name_no_outside_image_service():
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    sources = [*root.joinpath("demo").rglob("*.py"), *root.joinpath("catalog").glob("*.py")]
    for source in sources:
        text = source.read_text().lower()
        for service in ("picsum", "unsplash", "placehold", "loremflickr", "dummyimage", "placekitten"):
            assert service not in text, f"{source} names {service}"


def test_a_phone_jpeg_with_extra_pictures_mpo_is_a_jpeg(product):
    first, second = Image.new("RGB", (600, 600), (1, 2, 3)), Image.new("RGB", (600, 600), (4, 5, 6))
    out = io.BytesIO()
    first.save(out, "MPO", save_all=True, append_images=[second])
    media = services.media_add(product=product, image=upload(out.getvalue(), name="IMG_0001.JPG"))
    assert media.original.name.endswith(".jpg") and media.image.name.endswith(".jpg")
