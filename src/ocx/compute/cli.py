"""``ocx compute``: the customer's tools for using another landlord's volume from a server.

    ocx compute attach --cloud alice-fpga-k2k --server fpga-1 --volume dataset@stor \\
        --volume-cloud alice-stor-k2k
    ocx compute detach --cloud alice-fpga-k2k --server fpga-1 --volume dataset@stor \\
        --volume-cloud alice-stor-k2k

``--cloud`` names the clouds.yaml entry that reaches the server's compute; ``--volume-cloud``
the entry that reaches the volume's landlord (a K2K or OIDC entry for a federated user). The
compute receives only a delegation for that one volume, bound to its own key.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Annotated, Any

import httpx
import typer

from ocx.clients import compute as client

if TYPE_CHECKING:
    import openstack.connection

app = typer.Typer(help="Servers and the volumes of other landlords.", no_args_is_help=True)

Cloud = Annotated[str, typer.Option("--cloud", help="clouds.yaml entry for the compute.")]
VolumeCloud = Annotated[
    str, typer.Option("--volume-cloud", help="clouds.yaml entry for the volume's landlord.")
]
Server = Annotated[str, typer.Option("--server", help="Server name or id.")]
Volume = Annotated[str, typer.Option("--volume", help="VOLUME@LANDLORD (name or id).")]
Ttl = Annotated[int, typer.Option("--ttl", help="Seconds the delegation lasts (<= 900).")]


def _split(volume: str) -> tuple[str, str]:
    name, sep, landlord = volume.rpartition("@")
    if not sep or not name or not landlord:
        raise typer.BadParameter("give the volume as VOLUME@LANDLORD", param_hint="--volume")
    return name, landlord


def _resolve(cloud: str, volume_cloud: str, server: str, volume: str) -> dict[str, Any]:
    import openstack  # the SDK takes a second to import: only for this command (not `ocx up`)

    name, landlord = _split(volume)
    home = openstack.connect(cloud=cloud)
    there = openstack.connect(cloud=volume_cloud)
    found_server = home.compute.find_server(server, ignore_missing=False)
    found_volume = there.block_storage.find_volume(name, ignore_missing=False)
    return {
        "landlord": landlord,
        "compute_url": _endpoint(home, "compute").removesuffix("/v2.1"),
        "home_token": home.auth_token,
        "server_id": found_server.id,
        "volume_id": found_volume.id,
        "volume_url": _endpoint(there, "block-storage"),
        "identity_url": _endpoint(there, "identity").removesuffix("/v3"),
        "volume_token": there.auth_token,
    }


def _endpoint(conn: openstack.connection.Connection, service_type: str) -> str:
    """The landlord's own endpoint, in the cloud's region: a landlord that runs the proxy also
    lists the same service types in region ``ocx``, which are not where its servers live."""
    url = conn.session.get_endpoint(
        service_type=service_type, interface="public", region_name=conn.config.region_name
    )
    if not isinstance(url, str):
        raise typer.BadParameter(f"the cloud's catalog has no {service_type} service")
    return url.rstrip("/")


@app.command()
def attach(cloud: Cloud, volume_cloud: VolumeCloud, server: Server, volume: Volume,
           ttl: Ttl = 300) -> None:  # fmt: skip
    """Attach VOLUME@LANDLORD to SERVER through a delegation for that volume alone."""
    found = _resolve(cloud, volume_cloud, server, volume)
    made = client.attach_remote(
        found["compute_url"],
        found["home_token"],
        found["server_id"],
        volume_id=found["volume_id"],
        landlord=found["landlord"],
        identity_url=found["identity_url"],
        volume_url=found["volume_url"],
        volume_token=found["volume_token"],
        ttl=ttl,
    )
    typer.echo(json.dumps(made, indent=2))


@app.command()
def detach(cloud: Cloud, volume_cloud: VolumeCloud, server: Server, volume: Volume) -> None:
    """Detach VOLUME@LANDLORD from SERVER (the attachment ends at the volume's landlord)."""
    found = _resolve(cloud, volume_cloud, server, volume)
    resp = httpx.delete(
        f"{found['compute_url']}/v2.1/servers/{found['server_id']}/os-volume_attachments/"
        f"{found['volume_id']}",
        headers={"X-Auth-Token": found["home_token"], **client.NOVA},
        timeout=60,
    )
    if resp.status_code != 202:
        raise typer.Exit(_fail(resp))
    typer.echo(f"detached {volume} from {server}")


def _fail(resp: httpx.Response) -> int:
    typer.echo(f"refused: {resp.status_code} {resp.text}", err=True)
    return 1
