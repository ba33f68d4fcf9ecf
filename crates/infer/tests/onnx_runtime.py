"""The exported ONNX models run in ONNX Runtime, a second, independent runtime, fed by the README's
own lines: Burn's logits must come back within 1e-4, in batches of 64 (the dynamic batch axis) and
one image at a time, and each file must carry the input contract in its metadata. Where the true
digits are known (the MNIST test set), ONNX Runtime must get exactly as many right as Burn.

    cargo run -p infer --example onnx_fixtures -- OUT_DIR [--mnist-dir DIR]
    python3 crates/infer/tests/onnx_runtime.py OUT_DIR     # needs onnx-requirements.txt

The code that runs each model is the README's ```python block that imports onnxruntime, executed
as written (only the model path is swapped per case), so the README's example is tested too.
Prints one line per case and a closing 'onnx-runtime: N passed, N failed'; exits 1 on a failure.
"""

import json
import re
import sys
from pathlib import Path

import numpy as np

TOLERANCE = 1e-4
ROOT = Path(__file__).resolve().parents[3]
README_MODEL = "artifacts/mnist-cnn/model.onnx"
BATCH = 64
SINGLES = 100  # images also run one at a time (each run of the README's lines opens a session)


def readme_block() -> str:
    """The README's Python block that runs model.onnx with ONNX Runtime."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```python\n(.*?)```", readme, re.S)
    found = [b for b in blocks if "onnxruntime" in b and README_MODEL in b]
    if len(found) != 1:
        sys.exit(f"expected one README python block running {README_MODEL}, found {len(found)}")
    return found[0]


def run_readme(block: str, model: Path, pixels: np.ndarray) -> np.ndarray:
    """The README's lines with `pixels` bound, on `model`; returns their `logits`."""
    scope = {"pixels": pixels}
    exec(block.replace(README_MODEL, str(model)), scope)  # the project's own README
    return scope["logits"]


def check(case: dict, fixtures: Path, block: str, ort) -> tuple[bool, str]:
    """Runs one case; returns whether it passed and the line that says how it went."""
    name, count = case["name"], case["images"]
    model = fixtures / f"{name}.onnx"
    pixels = np.fromfile(fixtures / f"{name}.pixels", dtype=np.uint8).reshape(count, 28, 28)
    burn = np.fromfile(fixtures / f"{name}.logits", dtype="<f4").reshape(count, 10)
    problems = []
    batched = np.concatenate(
        [run_readme(block, model, pixels[i : i + BATCH]) for i in range(0, count, BATCH)]
    )
    singles = [run_readme(block, model, pixels[i : i + 1]) for i in range(min(count, SINGLES))]
    if batched.shape != burn.shape or any(s.shape != (1, 10) for s in singles):
        return False, f"{name}: logits of the wrong shape -> FAILED"
    diff_batched = float(np.abs(batched - burn).max())
    diff_single = float(np.abs(np.concatenate(singles) - burn[: len(singles)]).max())
    if max(diff_batched, diff_single) > TOLERANCE:
        problems.append(f"logits differ by more than {TOLERANCE}")
    line = (
        f"{name}: {count} images, max |logit difference| {diff_batched:.1e} in batches of "
        f"{BATCH}, {diff_single:.1e} one at a time"
    )
    if case.get("labels"):
        labels = np.fromfile(fixtures / f"{name}.labels", dtype=np.uint8)
        right_ort = int((batched.argmax(1) == labels).sum())
        right_burn = int((burn.argmax(1) == labels).sum())
        line += f"; correct: ONNX Runtime {right_ort}, Burn {right_burn}"
        if right_ort != right_burn:
            problems.append("not as many correct as Burn")
    metadata = ort.InferenceSession(str(model)).get_modelmeta().custom_metadata_map
    wrong = {k: metadata.get(k) for k, v in case["metadata"].items() if metadata.get(k) != v}
    if wrong:
        problems.append(f"metadata differs: {wrong}")
    return not problems, line + (f" -> FAILED: {'; '.join(problems)}" if problems else " -> ok")


def main() -> int:
    if len(sys.argv) != 2:
        sys.exit("usage: onnx_runtime.py FIXTURE_DIR (written by the onnx_fixtures example)")
    fixtures = Path(sys.argv[1])
    cases = json.loads((fixtures / "cases.json").read_text())["cases"]
    block = readme_block()
    import onnxruntime as ort

    print(f"ONNX Runtime {ort.__version__}, numpy {np.__version__}")
    passed = 0
    for case in cases:
        ok, line = check(case, fixtures, block, ort)
        passed += ok
        print(line)
    failed = len(cases) - passed
    print(f"onnx-runtime: {passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
