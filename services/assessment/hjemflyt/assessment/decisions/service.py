"""The use cases of a decision (vedtak), by job; endpoints, letters, the sweep and messaging
call them from here.

- making: draft (`create`, with `make` at once), `make` a stored draft, `send` its letter
- amending: `edit` a draft, or amend a running decision in the person's favour
- lifecycle: `activate`, `end`, and the sweep's `activate_due` / `expire_due`
- provider_choice: `choose_provider` (brukervalg)
- reading: `get`, `for_person`, `versions`, `choices`, `completeness`, `evaluations_due`

What a decision says, its version rows and its events are built in `builder`.
"""

from hjemflyt.assessment.decisions.amending import edit
from hjemflyt.assessment.decisions.lifecycle import activate, activate_due, end, expire_due
from hjemflyt.assessment.decisions.making import create, make, send
from hjemflyt.assessment.decisions.provider_choice import choose_provider
from hjemflyt.assessment.decisions.reading import (
    choices,
    completeness,
    evaluations_due,
    for_person,
    get,
    versions,
)

__all__ = [
    "activate",
    "activate_due",
    "choices",
    "choose_provider",
    "completeness",
    "create",
    "edit",
    "end",
    "evaluations_due",
    "expire_due",
    "for_person",
    "get",
    "make",
    "send",
    "versions",
]
