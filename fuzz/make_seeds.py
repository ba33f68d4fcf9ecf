#!/usr/bin/env python3
"""Writes the seed corpora of the fuzz targets into fuzz/corpus/<target>/ (standard library only).

Every seed is made here (no MNIST image enters the repository), except seven-chalk.jpg, which
is copied from examples/digits (drawn in code). Run from the repository root:
    python3 fuzz/make_seeds.py
"""
import gzip
import json
import os
import shutil
import struct
import zlib

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus")


def put(target, name, data):
    d = os.path.join(ROOT, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def words(*ws):
    return b"".join(struct.pack(">I", w) for w in ws)


def png(width, height, color_type, bit_depth, rows, extra_chunks=()):
    """A PNG from already-packed rows (filter byte 0 is prepended to each)."""
    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
    ihdr = struct.pack(">IIBBBBB", width, height, bit_depth, color_type, 0, 0, 0)
    raw = b"".join(b"\0" + r for r in rows)
    out = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr)
    for kind, body in extra_chunks:
        out += chunk(kind, body)
    return out + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b"")


def bar(x, y, w, h):
    """Whether (x, y) is on a vertical stroke in the middle of a w x h picture."""
    return w * 2 // 5 <= x < w * 3 // 5 and h // 6 <= y < h * 5 // 6


# --- idx: IDX files, raw and gzipped -------------------------------------------------------
image = bytes(255 if bar(x, y, 28, 28) else 0 for y in range(28) for x in range(28))
images1 = words(2051, 1, 28, 28) + image
labels3 = words(2049, 3) + bytes([1, 7, 9])
put("idx", "labels-raw", labels3)
put("idx", "labels-gz", gzip.compress(labels3, 9))
put("idx", "labels-multi-member-gz", gzip.compress(labels3[:5]) + gzip.compress(labels3[5:]))
put("idx", "images-gz", gzip.compress(images1, 9))
put("idx", "images-empty", words(2051, 0, 28, 28))
put("idx", "images-32x32-header", words(2051, 1, 32, 32))
put("idx", "labels-huge-count", words(2049, 0xFFFFFFFF) + b"\0" * 8)
put("idx", "labels-trailing", labels3 + b"\0")
put("idx", "labels-bad-label", words(2049, 1) + b"\x0a")
put("idx", "truncated-header", words(2051)[:3])

# --- image_preprocess: picture files --------------------------------------------------------
gray28 = [bytes(255 - (200 if bar(x, y, 28, 28) else 0) for x in range(28)) for y in range(28)]
put("image_preprocess", "gray-28.png", png(28, 28, 0, 8, gray28))
# The shape carried by alpha alone: black everywhere, opaque only on the stroke.
rgba = [b"".join(bytes([0, 0, 0, 255 if bar(x, y, 20, 24) else 0]) for x in range(20)) for y in range(24)]
put("image_preprocess", "alpha-shape-20x24.png", png(20, 24, 6, 8, rgba))
put("image_preprocess", "white-1x1.png", png(1, 1, 0, 8, [b"\xff"]))
# 1-bit palette, 16x16, white paper with a black stroke.
def bits(row):
    return bytes(int("".join(str(b) for b in row[i:i + 8]).ljust(8, "0"), 2) for i in range(0, len(row), 8))
pal_rows = [bits([0 if bar(x, y, 16, 16) else 1 for x in range(16)]) for y in range(16)]
put("image_preprocess", "palette-1bit-16.png", png(16, 16, 3, 1, pal_rows, [(b"PLTE", b"\0\0\0\xff\xff\xff")]))
rows16 = [b"".join(struct.pack(">H", 60000 if bar(x, y, 8, 8) else 1000) for x in range(8)) for y in range(8)]
put("image_preprocess", "gray16-8x8.png", png(8, 8, 0, 16, rows16))
shutil.copy(os.path.join(ROOT, "..", "..", "examples", "digits", "seven-chalk.jpg"),
            os.path.join(ROOT, "image_preprocess", "seven-chalk.jpg"))

# --- predict_body: one selector byte (content type in the low 3 bits, query in the high 4) then
# the body; see harness/predict_body.rs.
JSON, PNG, JPEG, OCTET = 0, 1, 2, 3
pixels = [255 if bar(x, y, 28, 28) else 0 for y in range(28) for x in range(28)]
put("predict_body", "json-pixels", bytes([JSON]) + json.dumps({"pixels": pixels}, separators=(",", ":")).encode())
put("predict_body", "json-pixels-stages", bytes([JSON | 0x20]) + json.dumps({"pixels": [p / 2 for p in pixels]}).encode())
put("predict_body", "json-short", bytes([JSON]) + b'{"pixels":[1,2,3]}')
put("predict_body", "json-out-of-range", bytes([4]) + json.dumps({"pixels": [300] * 784}, separators=(",", ":")).encode())
put("predict_body", "png-maps", bytes([PNG | 0x10]) + png(28, 28, 0, 8, gray28))
put("predict_body", "png-alpha", bytes([OCTET]) + png(20, 24, 6, 8, rgba))
put("predict_body", "not-an-image", bytes([JPEG]) + b"hello")
put("predict_body", "no-content-type", bytes([7]) + b"{}")
# The query's high bits 4 and 5: `?explain=true` and `?stages=true&explain=true`.
put("predict_body", "json-pixels-explain", bytes([JSON | 0x40]) + json.dumps({"pixels": pixels}, separators=(",", ":")).encode())
put("predict_body", "png-stages-explain", bytes([PNG | 0x50]) + png(28, 28, 0, 8, gray28))

# --- model_config: config.json files -------------------------------------------------------
lecture = {"conv1_filters": 32, "conv2_filters": 64, "kernel_size": 3, "hidden_units": 512,
           "dropout": 0.5, "activation": "relu", "pooling": "max", "padding": "valid"}
put("model_config", "lecture.json", json.dumps(lecture).encode())
put("model_config", "leaky-same-avg.json", json.dumps(dict(lecture, activation={"leaky-relu": {"slope": 0.1}},
                                                             padding="same", pooling="avg", kernel_size=5)).encode())
put("model_config", "old-num-classes.json", json.dumps(dict(lecture, num_classes=10)).encode())
put("model_config", "kernel-too-big.json", json.dumps(dict(lecture, kernel_size=13)).encode())
put("model_config", "empty-object.json", b"{}")

# --- pytorch_load / safetensors_load: model files of a tiny network (the harness writes its
# config.json beside the .pt; the safetensors seeds carry it in their metadata) -----------------
import io
import math
import zipfile

tiny = dict(lecture, conv1_filters=2, conv2_filters=2, hidden_units=4)
TINY_TENSORS = [("conv1.weight", [2, 1, 3, 3]), ("conv1.bias", [2]), ("conv2.weight", [2, 2, 3, 3]),
                ("conv2.bias", [2]), ("fc1.weight", [4, 50]), ("fc1.bias", [4]), ("fc2.weight", [10, 4]),
                ("fc2.bias", [10])]


def floats(n, seed):
    return struct.pack("<%df" % n, *[math.sin(seed * 7.0 + i) * 0.1 for i in range(n)])


def numel(shape):
    return math.prod(shape)


def pk_str(s):
    b = s.encode()
    return b"X" + struct.pack("<I", len(b)) + b


def pk_int(n):
    return b"J" + struct.pack("<i", n)


def pk_state_dict(tensors):
    """Opcodes leaving OrderedDict(name -> _rebuild_tensor_v2(storage, 0, size, stride, False, {}))."""
    od = b"ccollections\nOrderedDict\n)R"
    p = od + b"("
    for n, (name, shape) in enumerate(tensors):
        strides, s = [], 1
        for d in reversed(shape):
            strides.insert(0, s)
            s *= d
        p += pk_str(name) + b"ctorch._utils\n_rebuild_tensor_v2\n(("
        p += pk_str("storage") + b"ctorch\nFloatStorage\n" + pk_str(str(n)) + pk_str("cpu") + pk_int(numel(shape)) + b"tQ"
        p += pk_int(0) + b"(" + b"".join(pk_int(d) for d in shape) + b"t(" + b"".join(pk_int(d) for d in strides) + b"t"
        p += b"\x89" + od + b"tR"
    return p + b"u"


def torch_zip(pickle, tensors, compress=zipfile.ZIP_STORED):
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compress) as z:
        z.writestr("archive/data.pkl", pickle)
        z.writestr("archive/byteorder", "little")
        for n, (_, shape) in enumerate(tensors):
            z.writestr("archive/data/%d" % n, floats(numel(shape), n))
        z.writestr("archive/version", "3\n")
    return out.getvalue()


put("pytorch_load", "tiny-state-dict.pt", torch_zip(b"\x80\x02" + pk_state_dict(TINY_TENSORS) + b".", TINY_TENSORS))
put("pytorch_load", "tiny-checkpoint.pt", torch_zip(
    b"\x80\x02}(" + pk_str("state_dict") + pk_state_dict(TINY_TENSORS) + pk_str("epoch") + pk_int(3) + b"u.",
    TINY_TENSORS))
put("pytorch_load", "wrong-shape.pt", torch_zip(b"\x80\x02" + pk_state_dict(TINY_TENSORS[:1] + [("conv1.bias", [3])]) + b".",
                                               TINY_TENSORS[:1] + [("conv1.bias", [3])]))
put("pytorch_load", "empty-list-bomb.pt", torch_zip(b"\x80\x02" + b"]" * 100000 + b".", [], zipfile.ZIP_DEFLATED))
put("pytorch_load", "bare-pickle.pt", b"\x80\x02}(" + pk_str("a") + pk_int(1) + b"u.")
put("pytorch_load", "not-a-zip.pt", b"PK\x03\x04garbage")


def safetensors(tensors, metadata=None, dtype="F32"):
    header, offset, data = {}, 0, b""
    for n, (name, shape) in enumerate(tensors):
        body = floats(numel(shape), n) if dtype == "F32" else struct.pack("<%dd" % numel(shape), *([0.5] * numel(shape)))
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [offset, offset + len(body)]}
        offset += len(body)
        data += body
    if metadata:
        header["__metadata__"] = metadata
    h = json.dumps(header, separators=(",", ":")).encode()
    return struct.pack("<Q", len(h)) + h + data


put("safetensors_load", "tiny-with-config.safetensors", safetensors(TINY_TENSORS, {"model_config": json.dumps(tiny)}))
put("safetensors_load", "tiny-no-config.safetensors", safetensors(TINY_TENSORS))
put("safetensors_load", "tiny-f64.safetensors", safetensors(TINY_TENSORS, {"model_config": json.dumps(tiny)}, "F64"))
put("safetensors_load", "foreign.safetensors", safetensors([("layer.0.weight", [2, 2])]))
put("safetensors_load", "truncated.safetensors", safetensors(TINY_TENSORS, {"model_config": json.dumps(tiny)})[:300])

# --- history_curves: history.jsonl files ------------------------------------------------------
def record(epoch, loss, lr=1e-3, acc=90.0):
    return json.dumps({"epoch": epoch, "train_loss": loss, "train_accuracy": acc, "valid_loss": loss * 0.9,
                       "valid_accuracy": acc + 1, "lr": lr})


put("history_curves", "three-epochs.jsonl", "\n".join(record(e, 0.5 / e) for e in (1, 2, 3)).encode() + b"\n")
put("history_curves", "huge-loss.jsonl", (record(1, 0.5) + "\n" + record(2, 1.7e308) + "\n").encode())
put("history_curves", "resumed.jsonl", "\n".join(record(e, 0.3) for e in (1, 2, 2, 3)).encode())
put("history_curves", "nan-text.jsonl", b'{"epoch":1,"train_loss":"NaN","train_accuracy":"inf","valid_loss":null,"valid_accuracy":50,"lr":"-inf"}\n')
put("history_curves", "far-epochs.jsonl", (record(1, 0.5) + "\n" + record(18446744073709551615, 0.4) + "\n").encode())
