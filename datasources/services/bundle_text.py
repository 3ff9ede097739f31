"""A bundle as text: YAML (a superset of JSON) read without aliases, and written for a person to edit."""
import yaml
from django.core.exceptions import ValidationError


class NoAliasLoader(yaml.SafeLoader):
    """YAML without anchors and aliases: a few lines of them can expand to gigabytes."""

    def fetch_alias(self):
        raise yaml.YAMLError("aliases (*name) are not accepted in a bundle")


def bundle_from_text(text: str):
    """The document in ``text`` (YAML or JSON); ValidationError naming the first problem."""
    try:
        return yaml.load(text, Loader=NoAliasLoader)  # noqa: S506 (a SafeLoader)
    except yaml.YAMLError as exc:
        raise ValidationError({"bundle": [f"Not valid YAML or JSON: {str(exc).splitlines()[0]}"]}) from None


def bundle_yaml(bundle: dict) -> str:
    return yaml.safe_dump(bundle, sort_keys=False, allow_unicode=True)
