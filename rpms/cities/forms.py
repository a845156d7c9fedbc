import json

from django import forms

from .models import PolicyProfile
from .services import POLICY_LIST_FIELDS, POLICY_SCALAR_FIELDS


# The JSON settings that are objects, not lists (empty means {}).
DICT_FIELDS = {"eligibility_rules", "articles", "limit_strictness"}


class PolicyForm(forms.ModelForm):
    """Scalar rules as typed fields; lists as JSON text, validated by the service."""

    class Meta:
        model = PolicyProfile
        fields = POLICY_SCALAR_FIELDS

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in POLICY_LIST_FIELDS:
            field = PolicyProfile._meta.get_field(name)
            initial = json.dumps(getattr(self.instance, name), ensure_ascii=False, indent=2)
            self.fields[name] = forms.CharField(
                label=field.verbose_name, widget=forms.Textarea(attrs={"rows": 8, "class": "code raw-data"}),
                initial=initial, required=False,
                help_text="JSON 格式；保存时逐项校验。",
            )

    def clean(self):
        data = super().clean()
        for name in POLICY_LIST_FIELDS:
            raw = self.data.get(name, "")
            try:
                data[name] = json.loads(raw) if raw.strip() else ({} if name in DICT_FIELDS else [])
            except json.JSONDecodeError as exc:
                self.add_error(name, f"不是有效的 JSON（第 {exc.lineno} 行第 {exc.colno} 列）。")
        return data

    def changes(self) -> dict:
        return {name: self.cleaned_data[name] for name in POLICY_SCALAR_FIELDS + POLICY_LIST_FIELDS if name in self.cleaned_data}

    def _post_clean(self):
        # Model validation happens in the service (policy_update), which also audits the change.
        pass
