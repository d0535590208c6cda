"""`/v1/campaigns`: the lists each campaign obeys and its calling window."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Path
from starlette.responses import Response

from callblock.calling_hours import CallingWindow, clean_window
from callblock.campaign_rules import Campaign
from callblock.domain import CampaignById, FieldProblem, GroupKind, InvalidInput
from callblock.http import schemas
from callblock.http.problems import responses
from callblock.http.v1 import examples
from callblock.http.v1.common import PREFIX, GroupId, ReadingActorDep, ServiceDep, WritingActorDep
from callblock.rules import LARGEST_ID
from callblock.service import KEEP

router = APIRouter(prefix=PREFIX, tags=["campaigns"])

CampaignId = Annotated[int, Path(ge=1, le=LARGEST_ID, description="The campaign's id.")]


def campaign_public(campaign: Campaign) -> schemas.CampaignPublic:
    """A campaign as every answer shows it."""

    def attached(kind: GroupKind) -> list[schemas.AttachedGroupPublic]:
        return [
            schemas.AttachedGroupPublic(
                id=g.id, name=g.name, scope=g.scope, consent_overrides=g.consent_overrides
            )
            for g in campaign.groups
            if g.kind is kind
        ]

    window = campaign.window
    return schemas.CampaignPublic(
        id=campaign.id,
        name=campaign.name,
        description=campaign.description,
        calling_window=None
        if window is None
        else schemas.CallingWindowPublic.model_validate(window.to_wire()),
        block_groups=attached(GroupKind.BLOCK),
        allow_groups=attached(GroupKind.ALLOW),
        created_at=campaign.created_at,
        updated_at=campaign.updated_at,
    )


def _window(body: schemas.CallingWindowIn | None) -> CallingWindow | None:
    """The window of a request (its shape checked by the schema, its sense here)."""
    if body is None:
        return None
    problems: list[FieldProblem] = []
    window = clean_window(body.model_dump(), problems)
    if window is None:
        raise InvalidInput(problems)
    return window


@router.get(
    "/campaigns",
    operation_id="listCampaigns",
    summary="List campaigns",
    description="The calling account's campaigns, ordered by id, each with its attached block "
    "and allow groups and its calling window.",
    response_model=schemas.CampaignsPublic,
    responses={**examples.LIST_CAMPAIGNS, **responses(401, 503)},
)
def list_campaigns(actor: ReadingActorDep, service: ServiceDep) -> schemas.CampaignsPublic:
    campaigns = service.list_campaigns(actor)
    return schemas.CampaignsPublic(
        data=[campaign_public(c) for c in campaigns], count=len(campaigns)
    )


@router.post(
    "/campaigns",
    operation_id="createCampaign",
    summary="Create a campaign",
    description="A campaign obeys every global group and the groups attached to it. Answers "
    "201 with the campaign. A name another campaign has (ignoring case) is 409; an unknown "
    "group or an invalid window is 422, naming the field.",
    status_code=201,
    response_model=schemas.CampaignPublic,
    responses={**examples.CREATED_CAMPAIGN, **responses(400, 401, 409, 413, 422, 503)},
)
def create_campaign(
    body: Annotated[schemas.CampaignCreate, Body(openapi_examples=examples.CREATE_CAMPAIGN)],
    actor: WritingActorDep,
    service: ServiceDep,
) -> schemas.CampaignPublic:
    created = service.create_campaign(
        actor, body.name, body.description, _window(body.calling_window), body.group_ids
    )
    return campaign_public(created)


@router.get(
    "/campaigns/{campaign_id}",
    operation_id="getCampaign",
    summary="Get a campaign",
    description="One campaign of the calling account, with its attached block and allow "
    "groups and its calling window. A campaign of another account is 404, as one that does not "
    "exist.",
    response_model=schemas.CampaignPublic,
    responses={**examples.ONE_CAMPAIGN, **responses(401, 404, 422, 503)},
)
def get_campaign(
    campaign_id: CampaignId, actor: ReadingActorDep, service: ServiceDep
) -> schemas.CampaignPublic:
    return campaign_public(service.campaign(actor, CampaignById(campaign_id)))


@router.patch(
    "/campaigns/{campaign_id}",
    operation_id="updateCampaign",
    summary="Rename or redescribe a campaign, or set its calling window",
    description="Changes any of `name`, `description` and `calling_window` (null removes the "
    "window); a field left out is kept. Counts for the next checks within a second on every "
    "node.",
    response_model=schemas.CampaignPublic,
    responses={**examples.UPDATED_CAMPAIGN, **responses(400, 401, 404, 409, 413, 422, 503)},
)
def update_campaign(
    campaign_id: CampaignId,
    body: Annotated[schemas.CampaignUpdate, Body(openapi_examples=examples.UPDATE_CAMPAIGN)],
    actor: WritingActorDep,
    service: ServiceDep,
) -> schemas.CampaignPublic:
    window = _window(body.calling_window) if "calling_window" in body.model_fields_set else KEEP
    changed = service.update_campaign(
        actor,
        CampaignById(campaign_id),
        name=body.name,
        description=body.description,
        window=window,
    )
    return campaign_public(changed)


@router.post(
    "/campaigns/{campaign_id}/groups",
    operation_id="attachGroups",
    summary="Attach groups to a campaign",
    description="Attaches block or allow groups (those attached already stay): the "
    "campaign's next checks obey them, within a second on every node. An unknown group is 422 "
    "and nothing is attached.",
    response_model=schemas.CampaignPublic,
    responses={**examples.UPDATED_CAMPAIGN, **responses(400, 401, 404, 413, 422, 503)},
)
def attach_groups(
    campaign_id: CampaignId,
    body: Annotated[schemas.CampaignGroupsIn, Body(openapi_examples=examples.ATTACH_GROUPS)],
    actor: WritingActorDep,
    service: ServiceDep,
) -> schemas.CampaignPublic:
    return campaign_public(service.attach_groups(actor, CampaignById(campaign_id), body.group_ids))


@router.delete(
    "/campaigns/{campaign_id}/groups/{group_id}",
    operation_id="detachGroup",
    summary="Detach a group from a campaign",
    description="The group stays as it is; the campaign's checks stop obeying it (unless it "
    "is global). Detaching a group that is not attached changes nothing; a group the account "
    "does not have is 404 `group-not-found`.",
    response_model=schemas.CampaignPublic,
    responses={**examples.UPDATED_CAMPAIGN, **responses(401, 404, 422, 503)},
)
def detach_group(
    campaign_id: CampaignId, group_id: GroupId, actor: WritingActorDep, service: ServiceDep
) -> schemas.CampaignPublic:
    return campaign_public(service.detach_groups(actor, CampaignById(campaign_id), [group_id]))


@router.delete(
    "/campaigns/{campaign_id}",
    operation_id="deleteCampaign",
    summary="Delete a campaign",
    description="Deletes the campaign; its groups and their entries stay as they are, and a "
    "check naming it is 404 from then on. The deletion stays in the audit history. Answers 204 "
    "with no body.",
    status_code=204,
    response_class=Response,
    responses=responses(401, 404, 422, 503),
)
def delete_campaign(
    campaign_id: CampaignId, actor: WritingActorDep, service: ServiceDep
) -> Response:
    service.delete_campaign(actor, CampaignById(campaign_id))
    return Response(status_code=204)
