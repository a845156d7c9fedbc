"""Status fields and their transitions: one small mixin (CONVENTIONS, "State and time").

A model with a status field declares, for each such field, the moves its services may make:

    class Suggestion(StatusTransitions, TimeStampedModel):
        TRANSITIONS = {"status": {S.RECEIVED: {S.ANSWERED, S.FORWARDED}, S.ANSWERED: {S.CLOSED}, ...}}

Every choice of the field is a key (a final state maps to an empty set); rpms/core/tests/test_states.py
holds every model to that. Services change a status only through `move_to()`, which refuses a move the
table does not allow with 409 `invalid_transition` and a Chinese message naming both states; a service
that wants its own wording or code (`call_not_draft`, `already_decided`) checks `can_transition()`
first and raises its own refusal, and `move_to()` stays the guard behind it. No database change: the
table is class data."""
from rpms.core.errors import Conflict


class StatusTransitions:
    """Mixin for models.Model subclasses. `TRANSITIONS = {field name: {from: {to, ...}}}`."""

    TRANSITIONS: dict[str, dict[str, set[str]]] = {}

    @classmethod
    def transition_table(cls, field: str = "status") -> dict[str, set[str]]:
        try:
            return cls.TRANSITIONS[field]
        except KeyError:
            raise LookupError(f"{cls.__name__}.{field} declares no transition table") from None

    def can_transition(self, to, *, field: str = "status") -> bool:
        """Whether the table allows moving `field` from its current value to `to`."""
        return str(to) in {str(s) for s in self.transition_table(field).get(str(getattr(self, field)), ())}

    def _state_label(self, field: str, value) -> str:
        choices = dict(self._meta.get_field(field).flatchoices)
        return str(choices.get(str(value), value))

    def check_transition(self, to, *, field: str = "status", message: str | None = None,
                         code: str = "invalid_transition") -> None:
        """Raises Conflict (409) unless the table allows the move."""
        if not self.can_transition(to, field=field):
            label = self._meta.get_field(field).verbose_name
            raise Conflict(
                message or (f"{self._meta.verbose_name}当前{label}为“{self._state_label(field, getattr(self, field))}”，"
                            f"不能变为“{self._state_label(field, to)}”。"),
                code=code,
            )

    def move_to(self, to, *, field: str = "status", message: str | None = None,
                code: str = "invalid_transition") -> str:
        """Checks the move against the table and sets the field (the caller saves). Returns the previous value."""
        self.check_transition(to, field=field, message=message, code=code)
        previous = getattr(self, field)
        setattr(self, field, to)
        return previous
