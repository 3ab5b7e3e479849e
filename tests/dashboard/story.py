"""Driving Horizon's own panels in region ``ocx`` from a real browser (the customer's story)."""

from __future__ import annotations

import time
from typing import Any

from tests.dashboard.helpers import Browser


def choose(web: Browser, select_id: str, label: str) -> None:
    """Pick ``label`` in one of Horizon's themed selects, as a person does (open, click)."""
    group = web.page.locator(f".form-group:has(#{select_id})")
    group.locator(".themable-select button").click()
    group.locator(".themable-select .dropdown-menu a", has_text=label).first.click()
    assert web.page.eval_on_selector(f"#{select_id} option:checked", "o => o.text") == label


def until(check: Any, what: str, web: Browser, timeout: float = 60.0) -> str:
    """Reload until ``check(page text)`` holds; the last text seen."""
    deadline = time.monotonic() + timeout
    while True:
        text = check()
        if text:
            return str(text)
        assert time.monotonic() < deadline, f"{what}: not seen within {timeout:.0f}s"
        time.sleep(1.0)
        web.page.reload()


def create_volume(web: Browser, name: str, volume_type: str, zone: str) -> None:
    web.go("/project/volumes/")
    web.page.click("#volumes__action_create")
    web.page.wait_for_selector("#id_name")
    web.page.fill("#id_name", name)
    web.page.fill("#id_size", "1")
    choose(web, "id_type", volume_type)
    choose(web, "id_availability_zone", zone)
    web.page.click(".modal-footer [type=submit]")
    row = web.page.locator(f"#volumes tbody tr:has(a:text-is('{name}'))")
    row.wait_for()
    until(lambda: "Available" in row.inner_text(), f"volume {name} available", web)


def launch_server(web: Browser, name: str, zone: str, image: str, flavor: str) -> None:
    web.go("/project/instances/")
    web.page.click("#instances__action_launch-ng")
    web.page.wait_for_selector("#name")
    web.page.fill("#name", name)
    web.page.select_option("#availability-zone", label=zone)
    web.page.click(".wizard-nav >> text=Source")
    # OCX's default: boot from the image, no boot volume (settings LAUNCH_INSTANCE_DEFAULTS).
    assert web.page.locator("label#vol-create.active").inner_text().strip() == "No"
    web.page.locator(f".step:visible .transfer-available tr:has-text('{image}') button").click()
    web.page.click(".wizard-nav >> text=Flavor")
    flavors = web.page.locator(".step:visible .transfer-available")
    flavors.locator(f"tr:has-text('{flavor}') button").first.click()
    web.page.click(".modal-footer button.finish")
    row = web.page.locator(f"#instances tbody tr:has(a:text-is('{name}'))")
    row.wait_for()
    until(lambda: "Active" in row.inner_text(), f"server {name} active", web, timeout=120)


def attach_volume(web: Browser, server: str, volume: str) -> None:
    """The instance's "Attach Volume" action (the volume's own "Manage Attachments" is hidden
    for a volume of another landlord: see docs/dashboard.md)."""
    web.go("/project/instances/")
    row = web.page.locator(f"#instances tbody tr:has(a:text-is('{server}'))")
    row.locator(".dropdown-toggle").click()
    row.locator("a:has-text('Attach Volume')").click()
    web.page.wait_for_selector("#id_volume", state="attached")
    choose(web, "id_volume", next(
        o for o in web.page.locator("#id_volume option").all_inner_texts()
        if o.startswith(volume + " (")
    ))  # fmt: skip
    with web.page.expect_navigation():
        web.page.click(".modal-footer [type=submit]")


def upload_object(web: Browser, container: str, path: str) -> None:
    web.go("/project/containers/")
    web.page.click("button:has-text('Container')")
    web.page.wait_for_selector(".modal-dialog input[type=text]")
    web.page.fill(".modal-dialog input[type=text]", container)
    # The name is checked against the existing containers by an asynchronous validator;
    # until it answers, Angular holds the model undefined, and a click then creates a
    # container named "undefined" (seen under load).
    web.page.wait_for_selector(".modal-dialog input[type=text].ng-valid:not(.ng-pending)")
    # The form takes its default policy from a list read when the page loads; a modal opened
    # before that list arrived has none chosen, so choose it, as a person would.
    web.page.locator(".modal-dialog select option", has_text="Policy-0").wait_for(state="attached")
    web.page.select_option(".modal-dialog select", label="Policy-0")
    web.page.locator(".modal-footer button.btn-primary").click()
    web.page.locator(f"a:has-text('{container}')").first.click()
    web.page.wait_for_url(f"**/project/containers/container/{container}*")
    # "Container created" stays until dismissed and covers the object table's buttons.
    for close in web.page.locator(".messages .close:visible").all():
        close.click()
    web.page.click("button:has(.fa-upload)")
    web.page.wait_for_selector(".modal-dialog input[type=file]")
    web.page.set_input_files(".modal-dialog input[type=file]", path)
    web.page.click(".modal-footer button.btn-primary")
