"""File helpers shared by the datasets, featurizers and runs: atomic writes, CSV reading, safe unpickling, dev splits."""
from __future__ import annotations

import csv
import io
import json
import os
import pickle
import shutil
import tempfile
import zlib
from typing import Any, Callable, Iterable, Sequence

import yaml

from dialoggraph.data.errors import DialogueValidationError


def _current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


_UMASK = _current_umask()


def atomic_write(path: str, write: Callable[[io.BufferedWriter], None]) -> None:
    """Write ``path`` through a temporary file in the same folder, then rename.

    An interrupted write never leaves a half-written ``path`` behind, and an
    existing ``path`` is only replaced by a complete file.
    """
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=folder)
    try:
        os.chmod(tmp, 0o666 & ~_UMASK)      # as open() would create it (mkstemp makes it 0600)
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def writable_folder(path: str) -> None:
    """Create ``path`` if needed and check a file can be written there (one clear error if not)."""
    try:
        os.makedirs(path, exist_ok=True)
        tempfile.NamedTemporaryFile(dir=path, prefix=".write-test-").close()
    except OSError as exc:
        raise PermissionError(f"cannot write the run to {path} ({exc.strerror}); choose another --out") from None


def atomic_write_json(path: str, obj: Any) -> None:
    atomic_write(path, lambda f: f.write(json.dumps(obj, indent=1, sort_keys=True).encode()))


def atomic_write_yaml(path: str, obj: Any) -> None:
    """``obj`` as YAML (keys in their order), written atomically: how run files are written."""
    text = yaml.safe_dump(obj, sort_keys=False, default_flow_style=None)
    atomic_write(path, lambda f: f.write(text.encode()))


def read_csv(path: str, required: Sequence[str], encoding: str = "utf-8") -> list[dict[str, str]]:
    """Rows of a comma-separated file as dicts; raises naming the file when columns are missing
    (saying so when the header looks separated by another delimiter) and the line of the first
    byte that is not ``encoding`` text (UTF-8 may start with a byte-order mark).

    Each row gets ``"_row"``: its 1-based line number in the file (header = 1)
    for error messages.
    """
    codec = "utf-8-sig" if encoding.lower().replace("_", "-") in ("utf-8", "utf8") else encoding
    try:
        with open(path, newline="", encoding=codec) as f:
            reader = csv.DictReader(f)
            header = reader.fieldnames or []
            missing = [c for c in required if c not in header]
            if missing:
                raise DialogueValidationError(f"{path}: missing column(s) {', '.join(missing)} (has: "
                                              f"{', '.join(header)}){_delimiter_hint(header)}")
            rows = []
            for row in reader:
                row["_row"] = str(reader.line_num)
                rows.append(row)
    except UnicodeDecodeError as exc:
        raise DialogueValidationError(f"{path}, line {_undecodable_line(path, codec)}: not {encoding} text "
                                      f"({exc.reason}, byte {exc.object[exc.start]:#04x}); give the file's "
                                      f"encoding (--encoding, e.g. latin-1)") from None
    except LookupError:
        raise DialogueValidationError(f"{path}: unknown encoding {encoding!r}") from None
    return rows


def _delimiter_hint(header: Sequence[str]) -> str:
    """``"; it looks separated by ';'"`` when a one-column header holds another delimiter."""
    if len(header) == 1:
        for delimiter in (";", "\t", "|"):
            if delimiter in header[0]:
                return f"; it looks separated by {delimiter!r}: dialoggraph reads comma-separated files"
    return ""


def _undecodable_line(path: str, codec: str) -> int:
    """The 1-based line of the first line of ``path`` that ``codec`` cannot decode."""
    with open(path, "rb") as f:
        for number, line in enumerate(f, 1):
            try:
                line.decode(codec)
            except UnicodeDecodeError:
                return number
    return 1


class _RestrictedUnpickler(pickle.Unpickler):
    """Admits containers, numbers, strings and numpy arrays; refuses anything else."""

    ALLOWED = {
        ("numpy", "ndarray"),
        ("numpy", "dtype"),
        ("numpy.core.multiarray", "_reconstruct"),
        ("numpy.core.multiarray", "scalar"),
        ("numpy._core.multiarray", "_reconstruct"),
        ("numpy._core.multiarray", "scalar"),
        ("numpy.core.numeric", "_frombuffer"),
        ("numpy._core.numeric", "_frombuffer"),
        ("builtins", "set"),
        ("builtins", "frozenset"),
        ("builtins", "complex"),
        ("builtins", "bytearray"),
        ("collections", "OrderedDict"),
        ("collections", "defaultdict"),
        ("_codecs", "encode"),  # how Python 2 pickles store numpy's raw bytes
    }

    def __init__(self, file, path: str):
        super().__init__(file, encoding="latin1")
        self.path = path

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) in self.ALLOWED:
            return super().find_class(module, name)
        raise self._refuse(module, name)

    def _refuse(self, module: str, name: str) -> DialogueValidationError:
        return DialogueValidationError(
            f"{self.path}: refusing to unpickle {module}.{name}: only containers, numbers, "
            f"strings and numpy arrays are admitted (a pickle can run code; this one may be "
            f"malicious or from an unsupported tool)")


def safe_unpickle(path: str) -> Any:
    """Load an untrusted pickle through :class:`_RestrictedUnpickler`."""
    with open(path, "rb") as f:
        try:
            return _RestrictedUnpickler(f, path).load()
        except DialogueValidationError:
            raise
        except Exception as exc:  # truncated or corrupt file
            raise DialogueValidationError(f"{path}: not a readable pickle ({exc})") from None


def dev_holdout(ids: Iterable[Any], fraction: float = 0.1) -> set:
    """A deterministic ``fraction`` of dialogue ids held out as dev when no dev split exists.

    Chosen by a CRC32 hash of each id, so it does not depend on file order.
    """
    ids = list(ids)
    k = max(1, round(fraction * len(ids))) if len(ids) > 1 else 0
    ranked = sorted(ids, key=lambda i: (zlib.crc32(str(i).encode()), str(i)))
    return set(ranked[:k])


def atomic_folder(path: str, write: Callable[[str], None]) -> None:
    """Fill a temporary folder beside ``path`` with ``write(folder)``, then put it in ``path``'s place.

    An interrupted write leaves ``path`` as it was (a complete older folder, or none).
    """
    parent = os.path.dirname(os.path.abspath(path))
    os.makedirs(parent, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix=".tmp-", dir=parent)
    try:
        write(tmp)
        os.chmod(tmp, 0o777 & ~_UMASK)
        if os.path.exists(path):
            old = tempfile.mkdtemp(prefix=".old-", dir=parent)
            os.replace(path, os.path.join(old, "folder"))
            os.replace(tmp, path)
            shutil.rmtree(old)
        else:
            os.replace(tmp, path)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
