"""Dialogs: the system prompt with saved presets, and the settings."""

from __future__ import annotations

import json
from dataclasses import fields

from PySide6.QtCore import QSettings
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QLineEdit,
    QListWidget,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from app.config import Settings
from inference.engines.types import ModelInfo
from routing.keys import HUB_TOKEN_NAME
from routing.providers import PRESETS


def key_names() -> list[str]:
    """The names offered for a key: the Hub token first, then the provider presets."""
    return [HUB_TOKEN_NAME, *sorted(PRESETS)]


BUILTIN_PRESETS = {
    "Concise assistant": "You are a concise, accurate assistant. Answer briefly.",
    "Legal drafting": "You help a lawyer draft clear, precise text. Flag assumptions and "
                      "never invent citations.",
    "Code reviewer": "You review code for bugs, clarity and security. Quote the lines you "
                     "discuss.",
}


class SystemPromptDialog(QDialog):
    def __init__(self, current: str | None, ui_state: QSettings, parent: QWidget) -> None:
        super().__init__(parent)
        self.setWindowTitle("System prompt")
        self.ui_state = ui_state
        layout = QVBoxLayout(self)
        row = QHBoxLayout()
        self.presets = QComboBox()
        self.presets.setAccessibleName("Presets")
        row.addWidget(QLabel("Preset:"))
        row.addWidget(self.presets, 1)
        save = QPushButton("Save as preset…")
        save.clicked.connect(self._save_preset)
        row.addWidget(save)
        layout.addLayout(row)
        self.editor = QPlainTextEdit(current or "")
        self.editor.setAccessibleName("System prompt text")
        self.editor.setPlaceholderText("Empty: the model's own default.")
        layout.addWidget(self.editor)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                   | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self._load_presets()
        self.presets.activated.connect(self._apply_preset)

    def user_presets(self) -> dict[str, str]:
        try:
            saved = json.loads(str(self.ui_state.value("presets", "{}")))
        except json.JSONDecodeError:
            return {}
        return saved if isinstance(saved, dict) else {}

    def _load_presets(self) -> None:
        self.presets.clear()
        self.presets.addItem("(choose a preset)", None)
        for name, text in {**BUILTIN_PRESETS, **self.user_presets()}.items():
            self.presets.addItem(name, text)

    def _apply_preset(self, index: int) -> None:
        text = self.presets.itemData(index)
        if text:
            self.editor.setPlainText(text)

    def _save_preset(self) -> None:
        name, accepted = QInputDialog.getText(self, "Save preset", "Name:")
        if accepted and name.strip():
            presets = self.user_presets()
            presets[name.strip()] = self.editor.toPlainText()
            self.ui_state.setValue("presets", json.dumps(presets))
            self._load_presets()

    def text(self) -> str | None:
        return self.editor.toPlainText().strip() or None


# What a number box at 0 means, where that is not simply "not set".
_UNSET_TEXT = {"busy_hours_per_day": "7.2 h/day (30%, default)"}


class SettingsDialog(QDialog):
    """Edits Settings (settings.json), cloud keys (the OS keyring) and offline mode."""

    def __init__(self, settings: Settings, models: list[ModelInfo], data_dir: str,
                 key_store, parent: QWidget, at_rest: str = "") -> None:  # noqa: ANN001
        super().__init__(parent)
        self.setWindowTitle("Settings")
        self.settings = settings
        self.key_store = key_store
        from pathlib import Path

        self.data_path = Path(data_dir)
        names = {f.name for f in fields(Settings)}
        tabs = QTabWidget()
        layout = QVBoxLayout(self)
        layout.addWidget(tabs)

        general = QWidget()
        form = QFormLayout(general)
        self.default_model = QComboBox()
        self.default_model.setAccessibleName("Default model")
        for model in models:
            self.default_model.addItem(model.name, model.id)
        if settings.default_model:
            self.default_model.setCurrentIndex(max(0, self.default_model.findData(
                settings.default_model)))
        form.addRow("Default model", self.default_model)
        location = QLabel(f"{data_dir}<br><small>Set STILLROOM_HOME to use another folder "
                          f"(takes effect at the next start).</small>")
        location.setWordWrap(True)
        form.addRow("Data directory", location)
        # Read-only: encryption follows the OS keyring (app/store/encryption.py).
        self.at_rest = QLabel(f"Conversations: {at_rest}" if at_rest else "")
        self.at_rest.setWordWrap(True)
        self.at_rest.setAccessibleName("Conversations at rest")
        form.addRow("Encryption", self.at_rest)
        self.system_prompt = QPlainTextEdit(settings.system_prompt or "")
        self.system_prompt.setAccessibleName("Default system prompt")
        self.system_prompt.setMaximumHeight(80)
        form.addRow("Default system prompt", self.system_prompt)
        tabs.addTab(general, "General")

        costs = QWidget()
        cost_form = QFormLayout(costs)
        self.numbers: dict[str, QDoubleSpinBox | QSpinBox] = {}
        for name, label, maximum, decimals, suffix in (
                ("kwh_usd", "Electricity tariff", 10.0, 3, " $/kWh"),
                ("hardware_usd", "Hardware price", 1_000_000.0, 0, " $"),
                ("amortize_months", "Expected life", 240, 0, " months"),
                ("busy_hours_per_day", "Expected use", 24.0, 1, " h/day"),
                ("cpu_tdp_watts", "CPU TDP (for the estimate)", 2000.0, 0, " W")):
            if name not in names:
                continue
            box = QSpinBox() if decimals == 0 and name == "amortize_months" \
                else QDoubleSpinBox()
            # The life is required: at least a month. The others' 0 means "not set".
            box.setRange(1 if name == "amortize_months" else 0, maximum)
            if isinstance(box, QDoubleSpinBox):
                box.setDecimals(decimals)
            box.setSuffix(suffix)
            box.setSpecialValueText(_UNSET_TEXT.get(name, "not set"))
            box.setAccessibleName(label)
            box.setValue(getattr(settings, name) or 0)
            cost_form.addRow(label, box)
            self.numbers[name] = box
        if "reference_cloud_model" in names:
            self.reference = QLineEdit(settings.reference_cloud_model or "")
            self.reference.setAccessibleName("Reference cloud model")
            cost_form.addRow("Reference cloud model", self.reference)
        tabs.addTab(costs, "Costs")

        keys = QWidget()
        key_layout = QVBoxLayout(keys)
        key_layout.addWidget(QLabel("API keys are stored in the OS keyring, never on disk."))
        self.key_list = QListWidget()
        self.key_list.setAccessibleName("Stored keys (masked)")
        key_layout.addWidget(self.key_list)
        row = QHBoxLayout()
        # Editable: any provider name works; the list offers the usual ones, and
        # "huggingface" is the Hub token that gated model repositories need.
        self.provider = QComboBox()
        self.provider.setEditable(True)
        self.provider.addItems(key_names())
        self.provider.setCurrentText("")
        self.provider.lineEdit().setPlaceholderText("provider, e.g. openai or huggingface")
        self.provider.setAccessibleName("Provider name")
        self.provider.setToolTip("huggingface: your Hugging Face token, for gated models")
        self.secret = QLineEdit()
        self.secret.setEchoMode(QLineEdit.EchoMode.Password)
        self.secret.setPlaceholderText("API key")
        self.secret.setAccessibleName("API key")
        store = QPushButton("Save to keyring")
        store.clicked.connect(self._store_key)
        remove = QPushButton("Remove selected")
        remove.clicked.connect(self._remove_key)
        for widget in (self.provider, self.secret, store, remove):
            row.addWidget(widget)
        key_layout.addLayout(row)
        self.key_message = QLabel()
        self.key_message.setWordWrap(True)
        key_layout.addWidget(self.key_message)
        tabs.addTab(keys, "Cloud keys")
        self._refresh_keys()

        providers = QWidget()
        provider_layout = QVBoxLayout(providers)
        self.provider_list = QListWidget()
        self.provider_list.setAccessibleName("Cloud and on-premises providers")
        provider_layout.addWidget(self.provider_list)
        form = QFormLayout()
        self.new_provider = QLineEdit()
        self.new_provider.setPlaceholderText("name, e.g. office-vllm")
        self.new_url = QLineEdit()
        self.new_url.setPlaceholderText("https://api.example.com/v1")
        self.new_models = QLineEdit()
        self.new_models.setPlaceholderText("model ids, comma-separated")
        self.new_tier = QComboBox()
        self.new_tier.addItems(["cloud", "onprem"])
        for label, widget in (("Name", self.new_provider), ("Base URL", self.new_url),
                              ("Models", self.new_models), ("Tier", self.new_tier)):
            widget.setAccessibleName(f"Provider {label.lower()}")
            form.addRow(label, widget)
        provider_layout.addLayout(form)
        row = QHBoxLayout()
        add = QPushButton("Add provider")
        add.clicked.connect(self._add_provider)
        remove_provider = QPushButton("Remove selected")
        remove_provider.clicked.connect(self._remove_provider)
        row.addStretch()
        row.addWidget(remove_provider)
        row.addWidget(add)
        provider_layout.addLayout(row)
        self.provider_message = QLabel("Keys for providers go in the Cloud keys tab under "
                                       "the provider's name.")
        self.provider_message.setWordWrap(True)
        provider_layout.addWidget(self.provider_message)
        tabs.addTab(providers, "Providers")
        self.providers_changed = False
        self._refresh_providers()

        privacy = QWidget()
        privacy_layout = QVBoxLayout(privacy)
        self.offline = QCheckBox("Offline mode: nothing may connect beyond this machine")
        self.offline.setAccessibleName("Offline mode")
        self.offline.setChecked(bool(getattr(settings, "offline", False)))
        privacy_layout.addWidget(self.offline)
        privacy_layout.addWidget(QLabel("Enforced for the whole app at the socket layer; "
                                        "local chat keeps working."))
        privacy_layout.addLayout(self._judge_form(settings, models))
        privacy_layout.addStretch()
        tabs.addTab(privacy, "Privacy")

        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save
                                   | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)

    def _provider_store(self):
        from routing.providers import ProviderStore

        return ProviderStore(self.data_path / "providers.json")

    def _refresh_providers(self) -> None:
        from routing.providers import ProviderError

        self.provider_list.clear()
        try:
            for provider in self._provider_store().load():
                models = ", ".join(provider.models) or "any model"
                self.provider_list.addItem(f"{provider.name} [{provider.tier}] "
                                           f"{provider.base_url} — {models}")
        except ProviderError as exc:
            self.provider_message.setText(str(exc))

    def _add_provider(self) -> None:
        from routing.providers import ProviderError, make_provider

        name = self.new_provider.text().strip()
        models = [m.strip() for m in self.new_models.text().split(",") if m.strip()]
        try:
            # make_provider validates (and fills a preset's defaults) before anything is saved.
            provider = make_provider(name, base_url=self.new_url.text().strip() or None,
                                     tier=self.new_tier.currentText(), models=models)
            self._provider_store().add(provider)
        except (ProviderError, ValueError) as exc:
            self.provider_message.setText(str(exc))
            return
        self.providers_changed = True
        self.provider_message.setText(f"Added {name}. Store its key in the Cloud keys tab.")
        self._refresh_providers()

    def _remove_provider(self) -> None:
        from routing.providers import ProviderError

        item = self.provider_list.currentItem()
        if item is None:
            return
        try:
            self._provider_store().remove(item.text().split(" [", 1)[0])
        except ProviderError as exc:
            self.provider_message.setText(str(exc))
            return
        self.providers_changed = True
        self._refresh_providers()

    def _refresh_keys(self) -> None:
        from routing.keys import KeyringUnavailableError

        self.key_list.clear()
        try:
            for provider, shown in self.key_store.list_masked().items():
                self.key_list.addItem(f"{provider}: {shown}")
        except KeyringUnavailableError as exc:
            self.key_message.setText(str(exc))

    def _store_key(self) -> None:
        from routing.keys import KeyringUnavailableError

        provider = self.provider.currentText().strip().lower()
        if not provider:
            self.key_message.setText("Name the provider first (for example: openai).")
            return
        try:
            self.key_store.set(provider, self.secret.text())
        except (KeyringUnavailableError, ValueError) as exc:
            self.key_message.setText(str(exc))
            return
        self.secret.clear()
        self.key_message.setText(f"Key for {provider} saved in the OS keyring.")
        self._refresh_keys()

    def _remove_key(self) -> None:
        from routing.keys import KeyringUnavailableError

        item = self.key_list.currentItem()
        if item is None:
            return
        provider = item.text().split(":", 1)[0]
        try:
            self.key_store.delete(provider)
        except KeyringUnavailableError as exc:
            self.key_message.setText(str(exc))
            return
        self._refresh_keys()

    def _judge_form(self, settings: Settings, models: list[ModelInfo]) -> QFormLayout:
        """The local judge: a second opinion on cloud-bound text (app/turn/judge_step.py)."""
        form = QFormLayout()
        self.judge_mode = QComboBox()
        self.judge_mode.setAccessibleName("Judge cloud-bound text")
        for label, mode in (("Auto (when a model fit to judge is installed)", "auto"),
                            ("On", "on"), ("Off", "off")):
            self.judge_mode.addItem(label, mode)
        self.judge_mode.setCurrentIndex(max(0, self.judge_mode.findData(settings.judge)))
        form.addRow("Judge cloud-bound text", self.judge_mode)
        self.judge_model = QComboBox()
        self.judge_model.setAccessibleName("Judge model")
        self.judge_model.addItem("The largest installed instruct model that fits", None)
        self._judge_models = {m.id: m for m in models if m.format == "gguf"}
        for model in self._judge_models.values():
            self.judge_model.addItem(model.name, model.id)
        if settings.judge_model:
            self.judge_model.setCurrentIndex(max(0, self.judge_model.findData(
                settings.judge_model)))
        form.addRow("Judge model", self.judge_model)
        self.judge_timeout = QDoubleSpinBox()
        self.judge_timeout.setAccessibleName("Judge timeout")
        self.judge_timeout.setRange(0.5, 600)
        self.judge_timeout.setDecimals(1)
        self.judge_timeout.setSuffix(" s")
        self.judge_timeout.setValue(settings.judge_timeout_s)
        form.addRow("Judge timeout", self.judge_timeout)
        self.judge_warning = QLabel()
        self.judge_warning.setWordWrap(True)
        self.judge_warning.setAccessibleName("Judge warning")
        form.addRow("", self.judge_warning)
        self.judge_model.currentIndexChanged.connect(self._show_judge_warning)
        self.judge_mode.currentIndexChanged.connect(self._show_judge_warning)
        self._show_judge_warning()
        return form

    def _show_judge_warning(self) -> None:
        """Warn where the judge would be a model too small to judge (by its parameter count
        as the library knows it; no model file is read on the UI thread)."""
        from app.turn.judge_step import unfit_warning

        chosen = self.judge_model.currentData()
        candidates = [self._judge_models[chosen]] if chosen in self._judge_models \
            else list(self._judge_models.values())
        warnings = [unfit_warning(m, m.parameters) for m in candidates if m.parameters]
        text = ""
        if self.judge_mode.currentData() == "off":
            text = "Text the gate lets through goes to the cloud without a second opinion."
        elif candidates and len(warnings) == len(candidates) and all(warnings):
            text = warnings[0] if chosen else (
                f"No installed model is fit to judge ({warnings[0]})"
                + ("; with Auto the judge does not run" if self.judge_mode.currentData()
                   == "auto" else ""))
        self.judge_warning.setText(text)

    def apply_to(self, settings: Settings) -> None:
        settings.default_model = self.default_model.currentData()
        settings.system_prompt = self.system_prompt.toPlainText().strip() or None
        for name, box in self.numbers.items():
            value = box.value()
            setattr(settings, name, (int(value) if isinstance(box, QSpinBox) else value)
                    if value > 0 else None)
        if hasattr(self, "reference"):
            settings.reference_cloud_model = self.reference.text().strip() or None
        if hasattr(settings, "offline"):
            settings.offline = self.offline.isChecked()
        settings.judge = self.judge_mode.currentData()
        settings.judge_model = self.judge_model.currentData()
        settings.judge_timeout_s = self.judge_timeout.value()


class PolicyDialog(QDialog):
    """Edit policy.toml with its comments; nothing is saved unless it validates."""

    def __init__(self, path, parent: QWidget) -> None:  # noqa: ANN001 (Path)
        super().__init__(parent)
        from routing.policy import default_policy_text

        self.setWindowTitle("Routing policy")
        self.resize(760, 640)
        self.path = path
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel(f"{path}<br><small>Rules run in order; sensitive text never "
                                f"leaves this machine whatever they say.</small>"))
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            text = default_policy_text()
        except UnicodeDecodeError:  # a damaged file (its copy is kept aside): show what reads
            text = path.read_bytes().decode("utf-8", errors="replace")
        self.editor = QPlainTextEdit(text)
        self.editor.setAccessibleName("Policy file")
        from PySide6.QtGui import QFontDatabase

        self.editor.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        layout.addWidget(self.editor, 1)
        self.message = QLabel()
        self.message.setWordWrap(True)
        layout.addWidget(self.message)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save
                                   | QDialogButtonBox.StandardButton.Cancel)
        check = buttons.addButton("Check", QDialogButtonBox.ButtonRole.ActionRole)
        check.clicked.connect(self.check)
        buttons.accepted.connect(self.save)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)

    def check(self) -> bool:
        from routing.policy import PolicyError, parse_policy_text

        try:
            policy = parse_policy_text(self.editor.toPlainText(), str(self.path))
        except PolicyError as exc:
            self.message.setText(f"⚠ {exc}")
            return False
        self.message.setText(f"The policy is valid: {len(policy.rules)} rule(s).")
        return True

    def save(self) -> None:
        if not self.check():
            return  # the user's text stays in the editor to be fixed; the file is untouched
        from inference.files import write_text_atomic

        write_text_atomic(self.path, self.editor.toPlainText())
        self.accept()
