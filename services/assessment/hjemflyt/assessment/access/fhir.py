"""The access log as FHIR R4 AuditEvents, for the national health portal and auditors' tools."""

from __future__ import annotations

import uuid
from typing import Any

from hjemflyt.assessment.access.schemas import PersonAccessLog
from hjemflyt.shared.platform.access import AccessEvent

# FHIR R4 AuditEvent, following HL7 Norway's AuditEvent profile for the national trust
# framework (hl7norway.github.io/AuditEvent, ci-build 0.9.8): the patient as the
# auditevent-patient-extension, DICOM 110110 "Patient Record" as the type. The person is
# referred to by hjemflyt's pseudonymous id, never by identity number.
NO_AUDITEVENT_PROFILE = "http://hl7.no/fhir/StructureDefinition/no-domain-Trustframework-Auditevent"
NO_PATIENT_EXTENSION = "http://hl7.no/fhir/StructureDefinition/auditevent-patient-extension"
DICOM = "http://dicom.nema.org/resources/ontology/DCM"
FHIR_ACTIONS = {"create": "C", "read": "R", "update": "U", "delete": "D", "lookup": "E"}
HJEMFLYT_RESOURCE_SYSTEM = "urn:hjemflyt:access-log:resource"
HJEMFLYT_ACTOR_SYSTEM = "urn:hjemflyt:actor"
FHIR_JSON = "application/fhir+json"


def audit_event(entry: AccessEvent, person_id: uuid.UUID) -> dict[str, Any]:
    agent: dict[str, Any] = {
        "who": {"identifier": {"system": HJEMFLYT_ACTOR_SYSTEM, "value": entry.actor}},
        "requestor": True,
        "role": [{"text": entry.role}],
    }
    if entry.organisation:
        agent["who"]["display"] = f"{entry.actor} ({entry.organisation})"
    event: dict[str, Any] = {
        "resourceType": "AuditEvent",
        "id": f"{entry.service}-{entry.id}",
        "meta": {"profile": [NO_AUDITEVENT_PROFILE]},
        "extension": [{"url": NO_PATIENT_EXTENSION, "valueReference": {"reference": f"Patient/{person_id}"}}],
        "type": {"system": DICOM, "code": "110110", "display": "Patient Record"},
        "subtype": [{"system": HJEMFLYT_RESOURCE_SYSTEM, "code": entry.resource}],
        "action": FHIR_ACTIONS.get(entry.action, "E"),
        "recorded": entry.at.isoformat(),
        "outcome": "0",
        "purposeOfEvent": [{"text": entry.purpose}],
        "agent": [agent],
        "source": {"observer": {"display": f"hjemflyt-{entry.service}"}},
    }
    if entry.resource_id:
        event["entity"] = [{"what": {"identifier": {"value": entry.resource_id}}, "name": entry.resource}]
    return event


def as_fhir_bundle(log: PersonAccessLog, next_url: str | None = None) -> dict[str, Any]:
    """A searchset Bundle of AuditEvents; `next` is the same request with the page cursor."""
    bundle: dict[str, Any] = {
        "resourceType": "Bundle",
        "type": "searchset",
        "total": len(log.items),
        "entry": [{"resource": audit_event(e, log.person_id)} for e in log.items],
    }
    if log.next_cursor and next_url:
        bundle["link"] = [{"relation": "next", "url": next_url}]
    return bundle
