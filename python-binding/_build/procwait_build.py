# SPDX-License-Identifier: MIT
"""A PEP 517 build backend for this pure-Python package, from the standard
library alone, so that `pip install` needs no download (PyPI may be out
of reach). It builds a py3-none-any wheel and an sdist."""

import base64
import hashlib
import io
import os
import re
import tarfile
import zipfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PACKAGE = "procwait"


def _meta():
    text = open(os.path.join(ROOT, "pyproject.toml"), encoding="utf-8").read()

    def field(key):
        m = re.search(r'^%s\s*=\s*"([^"]*)"' % key, text, re.M)
        if not m:
            raise RuntimeError("pyproject.toml has no %s" % key)
        return m.group(1)
    return field("name"), field("version"), field("description"), field("requires-python")


def _classifiers():
    text = open(os.path.join(ROOT, "pyproject.toml"), encoding="utf-8").read()
    m = re.search(r"^classifiers\s*=\s*\[(.*?)\]", text, re.M | re.S)
    return re.findall(r'"([^"]+)"', m.group(1)) if m else []


def _metadata_text():
    name, version, summary, requires = _meta()
    readme = open(os.path.join(ROOT, "README.md"), encoding="utf-8").read()
    classifiers = "".join("Classifier: %s\n" % c for c in _classifiers())
    return ("Metadata-Version: 2.1\nName: %s\nVersion: %s\nSummary: %s\nLicense: MIT\n"
            "Requires-Python: %s\n%sDescription-Content-Type: text/markdown\n\n%s"
            % (name, version, summary, requires, classifiers, readme))


def _package_files():
    pkg = os.path.join(ROOT, PACKAGE)
    for fn in sorted(os.listdir(pkg)):
        if fn.endswith(".py") or fn == "py.typed":
            yield os.path.join(pkg, fn), "%s/%s" % (PACKAGE, fn)


def _record_line(arcname, data):
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return "%s,sha256=%s,%d" % (arcname, digest, len(data))


def get_requires_for_build_wheel(config_settings=None):
    return []


def get_requires_for_build_sdist(config_settings=None):
    return []


def _dist_info(version):
    return "%s-%s.dist-info" % (PACKAGE, version)


def prepare_metadata_for_build_wheel(metadata_directory, config_settings=None):
    _, version, _, _ = _meta()
    d = os.path.join(metadata_directory, _dist_info(version))
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "METADATA"), "w", encoding="utf-8") as f:
        f.write(_metadata_text())
    return _dist_info(version)


def _write_wheel(wheel_directory, files):
    """A py3-none-any wheel of files [(arcname, bytes)] plus dist-info."""
    _, version, _, _ = _meta()
    name = "%s-%s-py3-none-any.whl" % (PACKAGE, version)
    info = _dist_info(version)
    files = list(files)
    files.append(("%s/METADATA" % info, _metadata_text().encode("utf-8")))
    files.append(("%s/WHEEL" % info, b"Wheel-Version: 1.0\nGenerator: procwait_build\n"
                  b"Root-Is-Purelib: true\nTag: py3-none-any\n"))
    record = "".join(_record_line(a, d) + "\n" for a, d in files) + "%s/RECORD,,\n" % info
    files.append(("%s/RECORD" % info, record.encode("utf-8")))
    with zipfile.ZipFile(os.path.join(wheel_directory, name), "w", zipfile.ZIP_DEFLATED) as z:
        for arc, data in files:
            zi = zipfile.ZipInfo(arc, date_time=(2020, 1, 1, 0, 0, 0))
            zi.external_attr = 0o644 << 16
            z.writestr(zi, data, zipfile.ZIP_DEFLATED)
    return name


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    return _write_wheel(wheel_directory,
                        [(arc, open(path, "rb").read()) for path, arc in _package_files()])


# PEP 660: an editable install is a .pth file naming this source tree.
get_requires_for_build_editable = get_requires_for_build_wheel
prepare_metadata_for_build_editable = prepare_metadata_for_build_wheel


def build_editable(wheel_directory, config_settings=None, metadata_directory=None):
    pth = (ROOT + "\n").encode("utf-8")
    return _write_wheel(wheel_directory, [("_%s_editable.pth" % PACKAGE, pth)])


def build_sdist(sdist_directory, config_settings=None):
    _, version, _, _ = _meta()
    base = "%s-%s" % (PACKAGE, version)
    name = base + ".tar.gz"
    members = ["pyproject.toml", "README.md", "_build/procwait_build.py"]
    members += [arc for _, arc in _package_files()]
    def clean(ti):
        # reproducible: nobody's uid, no build time
        ti.uid = ti.gid = 0
        ti.uname = ti.gname = ""
        ti.mtime = 0
        return ti

    with tarfile.open(os.path.join(sdist_directory, name), "w:gz") as t:
        for rel in members:
            t.add(os.path.join(ROOT, rel), arcname="%s/%s" % (base, rel), filter=clean)
        pkg_info = _metadata_text().encode("utf-8")
        ti = tarfile.TarInfo("%s/PKG-INFO" % base)
        ti.size = len(pkg_info)
        t.addfile(ti, io.BytesIO(pkg_info))
    return name
