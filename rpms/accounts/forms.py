"""Account forms. The registration form only gathers input; `planner_account_register` decides."""

from django import forms

from rpms.core.errors import DomainError
from rpms.core.identity import MobileField

from .services import planner_account_register, registration_cities

# Which field a refusal from the service belongs to, so the message appears next to it.
_ERROR_FIELDS = {
    "invalid_username": "username",
    "username_taken": "username",
    "invalid_display_name": "display_name",
    "invalid_email": "email",
    "invalid_mobile": "mobile",
    "invalid_city": "city",
    "weak_password": "password1",
}


class PlannerRegistrationForm(forms.Form):
    username = forms.CharField(
        label="用户名",
        max_length=150,
        help_text="用于登录，可使用字母、数字和 @ . + - _，不区分大小写。",
        widget=forms.TextInput(attrs={"autocomplete": "username", "autocapitalize": "none", "spellcheck": "false"}),
    )
    display_name = forms.CharField(
        label="姓名",
        max_length=100,
        help_text="请填写真实姓名，与申请材料一致。",
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )
    mobile = MobileField(help_text="11 位中国大陆手机号码，仅用于核验，提交申请时还需填写。")
    email = forms.EmailField(
        label="电子邮箱（选填）",
        required=False,
        max_length=254,
        error_messages={"invalid": "电子邮箱格式不正确。"},
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    city = forms.ChoiceField(label="申请城市", help_text="您要申请加入哪个城市的责任规划师资源库。")
    password1 = forms.CharField(
        label="密码",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    password2 = forms.CharField(
        label="确认密码",
        strip=False,
        help_text="请再次输入密码。",
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["city"].choices = [("", "请选择城市")] + [(c.code, c.name) for c in registration_cities()]
        self.fields["city"].error_messages["invalid_choice"] = "所选城市不存在或尚未开通责任规划师申请。"

    def clean(self):
        cleaned = super().clean()
        first, second = cleaned.get("password1"), cleaned.get("password2")
        if first and second and first != second:
            self.add_error("password2", "两次输入的密码不一致。")
        return cleaned

    def register(self):
        """The new user, or None with the service's refusal attached to the right field.
        Call only after `is_valid()`."""
        data = self.cleaned_data
        try:
            return planner_account_register(
                username=data["username"],
                password=data["password1"],
                display_name=data["display_name"],
                email=data.get("email") or "",
                mobile=data["mobile"],
                city=data["city"],
            )
        except DomainError as exc:
            if exc.status == 429:
                raise
            self.add_error(_ERROR_FIELDS.get(exc.code), exc.message)
            return None
