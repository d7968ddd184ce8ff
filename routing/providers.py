"""Where a request can go besides this machine: OpenAI-compatible endpoints, in two tiers.

- ``cloud``: somebody else's computer. Never receives sensitive text (the router and the cloud
  client both refuse it).
- ``onprem``: a server the user controls (vLLM, llama.cpp server, Ollama, an EXO cluster,
  another Stillroom). The policy may treat it like the local machine.

Providers live in a JSON file whose path the caller passes (the app uses
``<data dir>/providers.json``). The file holds names, URLs and model ids, never keys: a
provider names the KeyStore entry that holds its key (``key_name``, by default its own name),
and the key itself stays in the OS keyring (routing/keys.py).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit, urlunsplit

from inference.files import write_json_atomic
from routing.offline import is_local

Tier = Literal["cloud", "onprem"]
TIERS: tuple[Tier, ...] = ("cloud", "onprem")
FILE_VERSION = 1

# Words that mean a route, not a provider: `--route cloud` must never be ambiguous.
RESERVED_NAMES = frozenset({"auto", "local", "onprem", "cloud", "none", "default"})
_NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,31}")
_DEFAULT_KEY = object()  # "use the preset's rule", as distinct from an explicit None


class ProviderError(ValueError):
    """A bad provider definition or providers file; the message is written for the user."""


@dataclass(frozen=True, slots=True)
class Preset:
    base_url: str
    tier: Tier
    models: tuple[str, ...]
    needs_key: bool
    note: str


# Model ids are examples the user can replace with --model; each provider serves many more.
PRESETS: dict[str, Preset] = {
    "openai": Preset("https://api.openai.com/v1", "cloud",
                     ("gpt-4o-mini", "gpt-4o", "gpt-4.1-mini", "gpt-5-mini"), True, "OpenAI"),
    "anthropic": Preset("https://api.anthropic.com/v1", "cloud",
                        ("claude-sonnet-4-5", "claude-haiku-4-5"), True,
                        "Anthropic's OpenAI SDK compatibility endpoint"),
    "gemini": Preset("https://generativelanguage.googleapis.com/v1beta/openai", "cloud",
                     ("gemini-2.5-flash", "gemini-2.0-flash"), True,
                     "Google Gemini's OpenAI compatibility endpoint"),
    "openrouter": Preset("https://openrouter.ai/api/v1", "cloud",
                         ("openai/gpt-4o-mini", "meta-llama/llama-3.3-70b-instruct"), True,
                         "OpenRouter"),
    "groq": Preset("https://api.groq.com/openai/v1", "cloud",
                   ("llama-3.3-70b-versatile", "llama-3.1-8b-instant"), True, "Groq"),
    "deepseek": Preset("https://api.deepseek.com/v1", "cloud",
                       ("deepseek-chat", "deepseek-reasoner"), True, "DeepSeek"),
    "mistral": Preset("https://api.mistral.ai/v1", "cloud",
                      ("mistral-small-latest", "mistral-large-latest"), True, "Mistral"),
    "together": Preset("https://api.together.xyz/v1", "cloud",
                       ("meta-llama/Llama-3.3-70B-Instruct-Turbo",), True, "Together AI"),
    # On-premises servers: the default URL is each server's default on this machine; pass
    # --base-url for one elsewhere on the network. None of them needs a key by default.
    "vllm": Preset("http://localhost:8000/v1", "onprem", (), False, "vLLM (vllm serve)"),
    "llamacpp": Preset("http://localhost:8080/v1", "onprem", (), False,
                       "llama.cpp server (llama-server)"),
    "ollama": Preset("http://localhost:11434/v1", "onprem", (), False, "Ollama"),
    "exo": Preset("http://localhost:52415/v1", "onprem", (), False, "an EXO cluster"),
    # The office server is a later issue; its address is the user's to give.
    "stillroom": Preset("http://localhost:8765/v1", "onprem", (), True,
                        "another Stillroom (its office server)"),
}


@dataclass(frozen=True, slots=True)
class Provider:
    """One endpoint. Holds no secret, so its repr and JSON are safe to show and store."""

    name: str
    base_url: str
    tier: Tier
    models: tuple[str, ...] = ()
    key_name: str | None = None  # KeyStore entry with its key; None: sends no real key
    preset: str | None = None

    @property
    def host(self) -> str:
        return urlsplit(self.base_url).hostname or ""

    @property
    def is_loopback(self) -> bool:
        """True when requests never leave this machine (allowed in offline mode)."""
        return is_local(self.host)

    @property
    def default_model(self) -> str | None:
        return self.models[0] if self.models else None

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "base_url": self.base_url, "tier": self.tier,
                "models": list(self.models), "key_name": self.key_name, "preset": self.preset}

    @classmethod
    def from_json(cls, raw: Any, where: str) -> Provider:
        if not isinstance(raw, dict):
            raise ProviderError(f"{where}: each provider must be an object")
        unknown = set(raw) - {"name", "base_url", "tier", "models", "key_name", "preset"}
        if unknown:
            raise ProviderError(f"{where}: unknown field(s) {sorted(unknown)}")
        models = raw.get("models", [])
        if not isinstance(models, list):
            raise ProviderError(f"{where}: 'models' must be a list of model ids")
        try:
            return make_provider(
                raw.get("name", ""), base_url=raw.get("base_url"), tier=raw.get("tier"),
                models=models, key_name=raw.get("key_name"), preset=raw.get("preset"),
                use_preset_defaults=False)
        except ProviderError as exc:
            raise ProviderError(f"{where}: {exc}") from None


def validate_name(name: object) -> str:
    """A provider name: lower-case letters, digits, '-' and '_', at most 32 characters."""
    if not isinstance(name, str) or not name.strip():
        raise ProviderError("A provider needs a name (for example 'openai' or 'office-vllm').")
    cleaned = name.strip().lower()
    if cleaned in RESERVED_NAMES:
        raise ProviderError(f"'{cleaned}' is a route word ({', '.join(sorted(RESERVED_NAMES))}); "
                            f"choose another provider name.")
    if not _NAME.fullmatch(cleaned):
        raise ProviderError(f"'{name}' is not a usable provider name: use lower-case letters, "
                            f"digits, '-' and '_' (at most 32, starting with a letter or digit).")
    return cleaned


def validate_base_url(url: object, tier: Tier) -> str:
    """The API's base URL, ending before /chat/completions (e.g. https://api.openai.com/v1)."""
    if not isinstance(url, str) or not url.strip():
        raise ProviderError("A provider needs a base URL, for example https://api.example.com/v1.")
    text = url.strip()
    try:
        parts = urlsplit(text)
        port = parts.port  # raises ValueError for a port that is not a number in range
    except ValueError:
        raise ProviderError(f"'{text}' is not a valid URL.") from None
    if parts.scheme not in ("http", "https"):
        raise ProviderError(f"'{text}' must start with https:// (or http:// for a server on "
                            f"your own network).")
    if not parts.hostname:
        raise ProviderError(f"'{text}' has no host name.")
    if parts.username is not None or parts.password is not None:
        # Credentials in a URL would be written to providers.json in clear text.
        raise ProviderError("Do not put a user name or key in the URL; store the key with "
                            "`stillroom keys set PROVIDER` (it goes to the OS keyring).")
    if parts.query or parts.fragment:
        raise ProviderError(f"'{text}' must not have a query (?...) or fragment (#...).")
    if tier == "cloud" and parts.scheme == "http" and not is_local(parts.hostname):
        raise ProviderError(f"'{text}' uses plain http to another machine: the key and every "
                            f"prompt would cross the network unencrypted. Use https, or "
                            f"--tier onprem for a server on your own network.")
    netloc = parts.hostname if port is None else f"{parts.hostname}:{port}"
    if ":" in parts.hostname:  # IPv6 literal
        netloc = f"[{parts.hostname}]" + ("" if port is None else f":{port}")
    return urlunsplit((parts.scheme, netloc, parts.path.rstrip("/"), "", ""))


def _validate_models(models: Iterable[object]) -> tuple[str, ...]:
    seen: list[str] = []
    for model in models:
        if not isinstance(model, str) or not model.strip():
            raise ProviderError("A model id must be non-empty text.")
        cleaned = model.strip()
        if any(ch.isspace() for ch in cleaned) or len(cleaned) > 200:
            raise ProviderError(f"'{cleaned[:60]}' is not a model id (no spaces, at most 200 "
                                f"characters).")
        if cleaned not in seen:
            seen.append(cleaned)
    return tuple(seen)


def make_provider(name: object, *, base_url: object = None, tier: object = None,
                  models: Iterable[object] = (), key_name: object = _DEFAULT_KEY,
                  preset: object = None, use_preset_defaults: bool = True) -> Provider:
    """Build a validated Provider, filling what was not given from a preset.

    A name that is a preset's ("openai", "ollama", ...) uses that preset unless another is
    named. A custom endpoint defaults to the ``cloud`` tier: trusting a server with sensitive
    text must be an explicit choice (``tier="onprem"``).
    """
    name = validate_name(name)
    if preset is None and use_preset_defaults and name in PRESETS:
        preset = name
    chosen: Preset | None = None
    if preset is not None:
        if preset not in PRESETS:
            raise ProviderError(f"Unknown preset '{preset}'; presets: {', '.join(PRESETS)}.")
        chosen = PRESETS[preset]  # type: ignore[index]
    if tier is None:
        tier = chosen.tier if chosen and use_preset_defaults else "cloud"
    if tier not in TIERS:
        raise ProviderError(f"Tier must be 'cloud' or 'onprem', not '{tier}'.")
    if base_url is None and chosen and use_preset_defaults:
        base_url = chosen.base_url
    url = validate_base_url(base_url, tier)  # type: ignore[arg-type]
    model_ids = _validate_models(models)
    if not model_ids and chosen and use_preset_defaults:
        model_ids = chosen.models
    if key_name is _DEFAULT_KEY:
        key_name = None if (chosen and not chosen.needs_key) else name
    if key_name is not None:
        key_name = validate_name(key_name)
    return Provider(name=name, base_url=url, tier=tier, models=model_ids,  # type: ignore[arg-type]
                    key_name=key_name, preset=preset)  # type: ignore[arg-type]


class ProviderStore:
    """The providers file: read on every call (it is tiny), replaced atomically on change."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def load(self) -> list[Provider]:
        where = str(self.path)
        try:
            document = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return []
        except (OSError, UnicodeDecodeError) as exc:
            raise ProviderError(f"{where}: cannot be read ({exc.__class__.__name__})") from None
        except json.JSONDecodeError as exc:
            raise ProviderError(f"{where}: not valid JSON (line {exc.lineno}, column "
                                f"{exc.colno}: {exc.msg})") from None
        if not isinstance(document, dict) or not isinstance(document.get("providers"), list):
            raise ProviderError(f'{where}: expected {{"version": 1, "providers": [...]}}')
        if document.get("version", FILE_VERSION) != FILE_VERSION:
            raise ProviderError(f"{where}: version {document.get('version')} is newer than this "
                                f"Stillroom understands ({FILE_VERSION}).")
        providers: list[Provider] = []
        for index, raw in enumerate(document["providers"]):
            provider = Provider.from_json(raw, f"{where}: providers[{index}]")
            if any(p.name == provider.name for p in providers):
                raise ProviderError(f"{where}: provider '{provider.name}' appears twice")
            providers.append(provider)
        return providers

    def save(self, providers: Iterable[Provider]) -> None:
        write_json_atomic(self.path, {"version": FILE_VERSION,
                                      "providers": [p.to_json() for p in providers]})

    def get(self, name: str) -> Provider:
        wanted = name.strip().lower()
        for provider in self.load():
            if provider.name == wanted:
                return provider
        raise ProviderError(f"No provider named '{name}'. `stillroom providers list` shows them; "
                            f"`stillroom providers add` adds one.")

    def add(self, provider: Provider, *, replace_existing: bool = False) -> None:
        providers = self.load()
        if any(p.name == provider.name for p in providers):
            if not replace_existing:
                raise ProviderError(f"A provider named '{provider.name}' already exists; remove "
                                    f"it first (`stillroom providers rm {provider.name}`).")
            providers = [provider if p.name == provider.name else p for p in providers]
        else:
            providers.append(provider)
        self.save(providers)

    def remove(self, name: str) -> Provider:
        provider = self.get(name)
        self.save(p for p in self.load() if p.name != provider.name)
        return provider
