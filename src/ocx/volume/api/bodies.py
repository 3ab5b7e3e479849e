"""Request bodies, strict as Cinder's JSON schemas: unknown keys are refused, explicit
``null``s (openstacksdk sends one for every optional field) are fine."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StrictInt, StrictStr, StringConstraints

Name = Annotated[str, StringConstraints(max_length=255)]
Key = Annotated[str, StringConstraints(min_length=1, max_length=255)]
Meta = dict[Key, Annotated[str, StringConstraints(max_length=255)]]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    def given(self) -> dict[str, Any]:
        return self.model_dump(exclude_unset=True)


class VolumeCreate(Strict):
    size: StrictInt | StrictStr | None = None
    name: Name | None = None
    description: str | None = None
    display_name: Name | None = None
    display_description: str | None = None
    volume_type: str | None = None
    metadata: Meta | None = None
    snapshot_id: str | None = None
    source_volid: str | None = None
    imageRef: str | None = None
    availability_zone: str | None = None
    consistencygroup_id: str | None = None
    backup_id: str | None = None
    group_id: str | None = None
    multiattach: bool | None = None

    def values(self) -> dict[str, Any]:
        out = self.given()
        out["name"] = self.name if self.name is not None else self.display_name
        out["description"] = (
            self.description if self.description is not None else self.display_description
        )
        return out


class VolumeCreateDoc(Strict):
    volume: VolumeCreate
    scheduler_hints: dict[str, Any] | None = Field(None, alias="OS-SCH-HNT:scheduler_hints")


class VolumeUpdate(Strict):
    name: Name | None = None
    description: str | None = None
    display_name: Name | None = None
    display_description: str | None = None
    metadata: Meta | None = None


class VolumeUpdateDoc(Strict):
    volume: VolumeUpdate


class MetadataDoc(Strict):
    metadata: Meta


class MetaItemDoc(Strict):
    meta: Meta


class SnapshotCreate(Strict):
    volume_id: str
    name: Name | None = None
    description: str | None = None
    display_name: Name | None = None
    display_description: str | None = None
    metadata: Meta | None = None
    force: bool | str | None = None


class SnapshotCreateDoc(Strict):
    snapshot: SnapshotCreate


class SnapshotUpdate(Strict):
    name: Name | None = None
    description: str | None = None
    display_name: Name | None = None
    display_description: str | None = None


class SnapshotUpdateDoc(Strict):
    snapshot: SnapshotUpdate


class TypeCreate(Strict):
    name: Annotated[str, StringConstraints(min_length=1, max_length=255)]
    description: str | None = None
    is_public: bool | None = Field(None, alias="os-volume-type-access:is_public")
    extra_specs: Meta | None = None


class TypeCreateDoc(Strict):
    volume_type: TypeCreate


class TypeUpdate(Strict):
    name: Name | None = None
    description: str | None = None
    is_public: bool | None = None


class TypeUpdateDoc(Strict):
    volume_type: TypeUpdate


class ExtraSpecsDoc(Strict):
    extra_specs: Meta


class AttachmentCreate(Strict):
    volume_uuid: str
    instance_uuid: str | None = None
    # openstacksdk renames a set ``instance`` to ``instance_uuid`` but sends a null as is.
    instance: str | None = None
    connector: dict[str, Any] | None = None
    mode: str | None = None

    def values(self) -> dict[str, Any]:
        out = self.given()
        out["instance_uuid"] = self.instance_uuid or out.pop("instance", None)
        return out


class AttachmentCreateDoc(Strict):
    attachment: AttachmentCreate


class AttachmentUpdate(Strict):
    connector: dict[str, Any]


class AttachmentUpdateDoc(Strict):
    attachment: AttachmentUpdate


class QuotaUpdateDoc(Strict):
    quota_set: dict[str, int | str | None]
