import factory
from factory.django import DjangoModelFactory

from rpms.accounts.models import Role, User


class UserFactory(DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    display_name = factory.Sequence(lambda n: f"用户{n}")
    role = Role.CITY_ADMIN
    password = factory.PostGenerationMethodCall("set_password", "Zz-test-password-1")

    class Params:
        district_officer = factory.Trait(role=Role.DISTRICT_OFFICER)
        planner = factory.Trait(role=Role.PLANNER)
