"""Installs the salvo package (the _salvo extension, with libsalvo built
in, and the Python layer) into an environment:

    python3 -m venv --system-site-packages v
    v/bin/pip install --no-build-isolation --no-index ./python

Debian's packages give what it needs: python3-dev, libcurl4-openssl-dev,
libjansson-dev, libssl-dev, zlib1g-dev, libbrotli-dev, libzstd-dev,
libpsl-dev, libc-ares-dev, libnghttp2-dev (scripts/deps.sh installs them)."""
import glob
import os
import subprocess

from setuptools import Extension, setup

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


def pkg(*args):
    out = subprocess.run(["pkg-config", *args, "libcurl", "jansson",
                          "openssl", "zlib", "libbrotlidec", "libzstd",
                          "libpsl", "libcares", "libnghttp2"],
                         capture_output=True, text=True,
                         check=True).stdout.split()
    return out


sources = [os.path.relpath(p, HERE) for p in
           sorted(glob.glob(os.path.join(ROOT, "src", "*.c")) +
                  glob.glob(os.path.join(ROOT, "src", "*", "*.c")))]
ext = Extension(
    "salvo._salvo",
    sources=sorted(os.path.relpath(p, HERE) for p in
                   glob.glob(os.path.join(HERE, "_salvo", "*.c"))) + sources,
    include_dirs=[os.path.join(ROOT, "include"), os.path.join(ROOT, "src")],
    extra_compile_args=["-std=gnu11", "-fvisibility=hidden"] +
    [f for f in pkg("--cflags") if f.startswith("-I")],
    extra_link_args=pkg("--libs") + ["-lpthread"],
)

with open(os.path.join(ROOT, "include", "salvo.h")) as f:
    version = next(line.split('"')[1] for line in f
                   if line.startswith("#define SALVO_VERSION "))

setup(name="salvo", version=version,
      description="Many HTTP requests at once, fast, with well-defined results",
      packages=["salvo"], ext_modules=[ext], python_requires=">=3.11")
