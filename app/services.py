"""The composition root: builds the store, model library, engines, router, energy meter and
answer pricer once, for the CLI, the GUI and the office server alike. Surfaces stay thin and
ask this for everything."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path

from app.config import Settings, data_dir, database_url, ensure_writable, load_settings
from app.metering.answer_cost import AnswerPricer
from app.metering.energy_meter import EnergyMeter, power_config
from app.metering.price_catalog import load_price_catalog, price_overrides_problems
from app.network_gate import set_offline
from app.store import encryption
from app.store.audit_anchor import AuditAnchor
from app.store.audit_log import AuditLog
from app.store.conversations import ConversationStore
from app.store.db import open_engine
from app.turn.service import ChatService
from inference.engines.batching import BatchSettings
from inference.engines.llama_engine import LlamaSettings
from inference.engines.manager import BatchShare, EngineManager
from inference.hub.downloads import DownloadQueue, library_registrar
from inference.models.created_files import CreatedFiles
from inference.models.library import ModelLibrary
from inference.user_files import FileProblem
from routing.keys import KeyStore, hub_token
from routing.router import KEYS_INDEX_FILE, POLICY_FILE, PROVIDERS_FILE, Router

# On a database several boxes share, an answer still 'streaming' may be another box's in
# progress; one begun this long ago is not (no answer runs for an hour).
SHARED_ANSWER_LIMIT = timedelta(hours=1)
# Slots of the desktop's batched engine while a job shares it: three documents at once and
# one slot always open for the desktop's own chat.
DESKTOP_SLOTS = 4


def _abandoned_before(store: ConversationStore) -> datetime | None:
    if store.engine.dialect.name == "sqlite":
        return None  # one box: whatever is streaming at start was cut by a crash
    return datetime.now(UTC) - SHARED_ANSWER_LIMIT


@dataclass
class Services:
    data_dir: Path
    settings: Settings
    store: ConversationStore
    library: ModelLibrary
    engines: EngineManager
    router: Router
    energy: EnergyMeter
    pricer: AnswerPricer
    keys: KeyStore
    audit: AuditLog
    # Files that could not be used as written (settings, policy, providers, prices, models,
    # downloads): each is one line for the user, and the most private state holds meanwhile.
    warnings: list[FileProblem] = field(default_factory=list)
    # One-time news for the user that is no problem (the store was just encrypted).
    notices: list[str] = field(default_factory=list)
    recovered_answers: int = 0
    _downloads: DownloadQueue | None = field(default=None, repr=False)

    @classmethod
    def open(cls, directory: Path | None = None, *,
             batch: BatchSettings | None = None) -> Services:
        """Raise ConfigError or StoreError (user-facing) when the app cannot start.

        A damaged settings, policy, providers, price-overrides or model list file does not
        stop the start (fail closed): offline mode stays on, only this machine answers, and
        ``warnings`` names each file to fix."""
        directory = ensure_writable(directory or data_dir())
        settings, warnings = load_settings(directory / "settings.json")
        set_offline(settings.offline, directory)  # before anything below can open a socket
        # Read once, before anything is started that would need closing. Edits apply from
        # the next start (or `reload_router`).
        router, router_problems = Router.load_fail_closed(directory)
        warnings += router_problems
        warnings += price_overrides_problems(directory)
        library = ModelLibrary(directory)
        warnings += library.problems()
        store = ConversationStore(open_engine(database_url(directory)))
        # The start that encrypted a plaintext database says so, once.
        notice = encryption.status_of(store.engine).notice
        recovered = store.recover_interrupted(_abandoned_before(store))
        # `batch` (the office server): GGUF models answer many requests at once.
        engines = EngineManager(LlamaSettings(context_length=settings.context_length,
                                              n_threads=settings.threads), batch=batch)
        energy = EnergyMeter(power_config(settings))
        energy.start()  # sensors are found in the background, once per process
        pricer = AnswerPricer(settings, catalog=partial(load_price_catalog, directory))
        audit = AuditLog(store.engine, AuditAnchor(directory))
        set_offline(settings.offline, directory, audit)  # refusals go to this audit log
        return cls(data_dir=directory, settings=settings, store=store,
                   library=library, engines=engines, router=router,
                   energy=energy, pricer=pricer, keys=KeyStore(directory / KEYS_INDEX_FILE),
                   audit=audit, warnings=warnings, notices=[notice] if notice else [],
                   recovered_answers=recovered)

    @property
    def at_rest(self) -> encryption.AtRest:
        """Whether the conversations are encrypted on disk, and why (settings, doctor)."""
        return encryption.status_of(self.store.engine)

    @property
    def settings_path(self) -> Path:
        return self.data_dir / "settings.json"

    def apply_settings(self) -> None:
        """Apply edited settings (the GUI's settings dialog) to the running services. The
        pricer reads `settings` on every answer; the offline guard and the power sensors are
        set here, so a new TDP is used by the next answer without a restart."""
        self.set_offline(self.settings.offline)
        self.energy.reconfigure(power_config(self.settings))

    def set_offline(self, enabled: bool) -> None:
        """Offline mode on or off for the whole process (the GUI's privacy setting)."""
        set_offline(enabled, self.data_dir, self.audit)

    def reload_router(self) -> list[FileProblem]:
        """Pick up an edited policy.toml or providers.json (the GUI's policy editor); the
        problems that remain (the router is local-only while there are any)."""
        self.router, problems = Router.load_fail_closed(self.data_dir)
        router_files = {self.data_dir / POLICY_FILE, self.data_dir / PROVIDERS_FILE}
        self.warnings = [w for w in self.warnings if w.path not in router_files] + problems
        return problems

    def chat(self) -> ChatService:
        return ChatService(self)

    def share_engines(self, slots: int = DESKTOP_SLOTS, max_waiting: int = 32) -> BatchShare:
        """One scheduler for everyone while the share is held (the window's server, a job in
        the window): GGUF models answer batched, each owner (the desktop chat, a job, an
        office user) fairly, one slot kept for anyone but the heaviest. Alone, the desktop
        answers one stream at a time again once the engine is idle."""
        return self.engines.share(BatchSettings.shared(slots, max_waiting))

    @property
    def downloads(self) -> DownloadQueue:
        """The model download queue (downloads.json in the data directory), made on first
        use: opening it resumes interrupted transfers, which a `chat` should not start."""
        if self._downloads is None:
            self._downloads = DownloadQueue(self.data_dir / "downloads.json",
                                            library_registrar(self.library), self.hub_token,
                                            created=CreatedFiles(self.data_dir))
            self.warnings += self._downloads.problems
        return self._downloads

    def hub_token(self) -> str | None:
        return hub_token(self.keys)

    def close(self) -> None:
        if self._downloads is not None:
            self._downloads.close()
        self.energy.close()
        self.engines.close()
        self.store.engine.dispose()
