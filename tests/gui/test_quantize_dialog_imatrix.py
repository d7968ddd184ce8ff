"""The Quantize dialog offers the types that need an importance matrix only once one is
given, sizes every type from its bits per weight, shows the equivalent command, and runs
llama.cpp with the matrix."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import shlex
from pathlib import Path

from app.gui.quantize_dialog import QuantizeDialog
from app.services import Services
from tests.inference.test_quantize_imatrix import write_legacy_imatrix

TASK_TIMEOUT_MS = 300_000  # a hang guard for a loaded CI machine, not a speed target


def _types(dialog: QuantizeDialog) -> dict[str, str]:
    box = dialog.type_box
    return {box.itemData(i): box.itemText(i) for i in range(box.count())}


def test_imatrix_types_appear_with_a_matrix_and_the_command_says_so(
        qtbot, stillroom_home: Path, f16_model: Path, tmp_path: Path) -> None:
    services = Services.open()
    try:
        model = services.library.register(f16_model, source="test F16")
        dialog = QuantizeDialog(services, model, None)
        qtbot.addWidget(dialog)
        qtbot.waitUntil(dialog.start_button.isEnabled, timeout=TASK_TIMEOUT_MS)
        types = _types(dialog)
        assert "Q2_K_S" not in types and "IQ2_XS" not in types and "IQ4_XS" in types
        assert types["Q4_K_M"].endswith("4.84 bits/weight)")
        # Sized from 4.25 bits per weight, not as F16 (the size the old dialog showed).
        assert "about 72" in types["IQ4_XS"] or "about 71" in types["IQ4_XS"], types["IQ4_XS"]
        output = dialog.output.text()
        assert dialog.cli_command() == shlex.join([
            "stillroom", "models", "quantize", model.path, "--type", "Q4_K_M", "--output",
            output])
        assert "stillroom models quantize" in dialog.command.text()

        imatrix = write_legacy_imatrix(f16_model, tmp_path / "imatrix.dat")
        dialog.imatrix.setText(str(imatrix))
        assert {"Q2_K_S", "IQ2_XS", "IQ1_S"} <= _types(dialog).keys()
        assert dialog.type_name() == "Q4_K_M"  # the choice survives the longer list
        dialog.type_box.setCurrentIndex(dialog.type_box.findData("Q2_K_S"))
        assert dialog.cli_command().endswith(f"--imatrix {shlex.quote(str(imatrix))}")
        assert "--type Q2_K_S" in dialog.cli_command()
        with qtbot.waitSignal(dialog.sig_registered, timeout=TASK_TIMEOUT_MS):
            dialog.start_button.click()
        assert "Q2_K_S" in dialog.status.text() and "added to the library" in \
            dialog.status.text()
        dialog.imatrix.clear()
        assert "Q2_K_S" not in _types(dialog)
    finally:
        services.close()
