"""Text to memorize: where the characters come from, and how one step's input encodes one.

``make_text(text_cfg, seed)`` draws ``count`` distinct training sequences of
``length`` character codes (0-255) and as many distinct held-out ones, none
shared with training, from one of three sources:

- ``random``: i.i.d. characters from an alphabet (printable ASCII or all bytes),
  so every character carries exactly log2|alphabet| bits;
- ``stdlib``: natural English, the docstrings of a fixed list of standard
  library source files: nothing is downloaded and the text is the same on
  every run of the same Python version;
- ``file``: any file, read as bytes.

Windows are drawn among the *distinct* windows of the source, so a repeated
phrase cannot make a sequence count twice. ``encode`` turns codes into network
inputs (one step per character) and ``decode`` turns them back.
"""

from __future__ import annotations

import ast
import functools
import math
import sysconfig
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from memcap.config import ConfigError

CODES = 256  # every character is a byte; the decoder picks one of 256 per position
ALPHABET_CODES = {"printable": np.arange(32, 127, dtype=np.uint8), "bytes": np.arange(CODES, dtype=np.uint8)}
INPUT_SIZE = {"scalar": 1, "onehot": CODES}

# Pure-Python, platform-neutral standard library modules, by path under the stdlib directory, in a fixed order.
STDLIB_FILES = (
    "abc.py", "argparse.py", "ast.py", "base64.py", "bisect.py", "calendar.py", "cmd.py", "codecs.py",
    "collections/__init__.py", "colorsys.py", "configparser.py", "contextlib.py", "copy.py", "csv.py",
    "dataclasses.py", "datetime.py", "decimal.py", "difflib.py", "dis.py", "email/__init__.py", "enum.py",
    "filecmp.py", "fnmatch.py", "fractions.py", "ftplib.py", "functools.py", "getopt.py", "gettext.py", "glob.py",
    "graphlib.py", "gzip.py", "hashlib.py", "heapq.py", "hmac.py", "html/__init__.py", "html/parser.py",
    "http/client.py", "imaplib.py", "inspect.py", "io.py", "ipaddress.py", "json/__init__.py", "keyword.py",
    "linecache.py", "locale.py", "logging/__init__.py", "mailbox.py", "mimetypes.py", "numbers.py", "operator.py",
    "optparse.py", "pathlib.py", "pickle.py", "pkgutil.py", "poplib.py", "pprint.py", "queue.py", "quopri.py",
    "random.py", "re/__init__.py", "reprlib.py", "sched.py", "secrets.py", "shlex.py", "shutil.py", "smtplib.py",
    "statistics.py", "string.py", "struct.py", "tarfile.py", "tempfile.py", "textwrap.py", "threading.py",
    "timeit.py", "tokenize.py", "traceback.py", "types.py", "typing.py", "unittest/__init__.py", "urllib/parse.py",
    "uuid.py", "warnings.py", "weakref.py", "wave.py", "xml/dom/minidom.py", "zipfile.py",
)


@dataclass
class TextData:
    """Training and held-out sequences as codes (count, length), and the information per character."""

    train: torch.Tensor
    heldout: torch.Tensor
    bits_per_char: float  # random: log2|alphabet|; natural text and files: the source's order-0 entropy


def _docstrings(source: str) -> list[str]:
    """The module's docstring, then those of its public classes and functions, in ast.walk order."""
    tree = ast.parse(source)
    definitions = (ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)
    nodes = [tree] + [n for n in ast.walk(tree) if isinstance(n, definitions) and not n.name.startswith("_")]
    return [doc for doc in map(ast.get_docstring, nodes) if doc]


@functools.lru_cache(maxsize=1)
def stdlib_text() -> bytes:
    """About 430 kB of English: the STDLIB_FILES' docstrings, ASCII only, whitespace collapsed, one per line, each once.

    Read from the source files (not from imported modules, whose namespaces
    depend on what else the process has imported), so the text is the same in
    every process of the same Python version.
    """
    root = Path(sysconfig.get_paths()["stdlib"])
    lines: dict[str, None] = {}
    for name in STDLIB_FILES:
        for doc in _docstrings((root / name).read_text(encoding="utf-8")):
            line = " ".join(doc.encode("ascii", "ignore").decode("ascii").split())
            if line:
                lines.setdefault(line)
    return "\n".join(lines).encode("ascii")


def read_source(text_cfg) -> np.ndarray:
    """The codes of the stdlib text or of the file at ``text.path``; ConfigError if there are none."""
    if text_cfg.source == "stdlib":
        return np.frombuffer(stdlib_text(), dtype=np.uint8)
    path = Path(text_cfg.path)
    if not path.is_file():
        raise ConfigError("text.path", f"no such file: {path}")
    codes = np.frombuffer(path.read_bytes(), dtype=np.uint8)
    if codes.size == 0:
        raise ConfigError("text.path", f"{path} is empty")
    return codes


def entropy_bits(codes: np.ndarray) -> float:
    """Order-0 (single-character) entropy in bits: what a character carries if characters were independent."""
    p = np.bincount(codes, minlength=CODES) / codes.size
    p = p[p > 0]
    return float(-(p * np.log2(p)).sum())


def _too_few(text_cfg, available: int | float, what: str) -> ConfigError:
    count, length = text_cfg.count, text_cfg.length
    return ConfigError("text.count", f"{count} training + {count} held-out sequences need {2 * count} distinct ones, "
                                     f"but {what} gives only {available:,.0f} of length {length}")


def random_sequences(alphabet: np.ndarray, length: int, n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` distinct strings of i.i.d. characters: draws in order, repeats skipped (uniform, no replacement)."""
    rows: dict[bytes, np.ndarray] = {}
    while len(rows) < n:
        for row in rng.choice(alphabet, size=(n - len(rows), length)):
            rows.setdefault(row.tobytes(), row)
    return np.stack(list(rows.values()))


def source_windows(codes: np.ndarray, length: int) -> np.ndarray:
    """Every distinct window of ``length`` consecutive codes, sorted (a canonical order to draw from)."""
    if codes.size < length:
        return np.empty((0, length), dtype=np.uint8)
    return np.unique(np.lib.stride_tricks.sliding_window_view(codes, length), axis=0)


def make_text(text_cfg, seed: int) -> TextData:
    """Draw the training and held-out sequences of ``text_cfg`` (the config's ``text`` node) from ``seed``."""
    rng = np.random.default_rng(seed)
    n, length = 2 * text_cfg.count, text_cfg.length
    if text_cfg.source == "random":
        alphabet = ALPHABET_CODES[text_cfg.alphabet]
        available = alphabet.size ** length
        if available < n:
            raise _too_few(text_cfg, available, f"the {text_cfg.alphabet} alphabet ({alphabet.size} characters)")
        rows, bits = random_sequences(alphabet, length, n, rng), math.log2(alphabet.size)
    else:
        codes = read_source(text_cfg)
        windows = source_windows(codes, length)
        if len(windows) < n:
            raise _too_few(text_cfg, len(windows), f"text.source={text_cfg.source}")
        rows, bits = windows[rng.choice(len(windows), size=n, replace=False)], entropy_bits(codes)
    sequences = torch.from_numpy(rows.astype(np.int64))
    return TextData(train=sequences[: text_cfg.count], heldout=sequences[text_cfg.count:], bits_per_char=bits)


def encode(codes: torch.Tensor, encoding: str) -> torch.Tensor:
    """Codes (..., L) -> inputs (..., L, INPUT_SIZE[encoding]): code / 255, or a one-hot vector of 256."""
    if encoding == "scalar":
        return (codes.float() / (CODES - 1)).unsqueeze(-1)
    return torch.nn.functional.one_hot(codes, CODES).float()


def decode(inputs: torch.Tensor, encoding: str) -> torch.Tensor:
    """The inverse of ``encode``: inputs (..., L, size) -> codes (..., L)."""
    if encoding == "scalar":
        return (inputs.squeeze(-1) * (CODES - 1)).round().long()
    return inputs.argmax(-1)
