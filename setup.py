"""tfgan_eff: cheaper GANs to find (alphaGAN), compress (DGL-GAN) and train sparse (STU-GAN), in TF 2.21 / Keras 3."""

import os

from setuptools import find_packages, setup

# Versions tested together on Python 3.11 (2 CPU cores, no GPU).
CORE = [
    "keras==3.15.1",
    "absl-py==2.5.1",
    "tensorboard==2.21.0",
    "ml-collections==1.1.0",
    "tensorflow-datasets==4.9.10",
    "ai-edge-litert==2.3.0",
    "numpy==2.4.6",
    "scipy==1.17.1",
    "scikit-learn==1.9.1",
    "pillow==13.0.0",
]

setup(
    name="tfgan_eff",
    version="0.1.0",
    description=__doc__,
    license="Apache-2.0",
    packages=find_packages(include=["tfgan_eff", "tfgan_eff.*"]),
    python_requires=">=3.11",
    # GPU machines: TFGAN_EFF_GPU=1 pip install -e '.[gpu]' (tensorflow with CUDA replaces tensorflow-cpu).
    install_requires=CORE + ([] if os.environ.get("TFGAN_EFF_GPU") else ["tensorflow-cpu==2.21.0"]),
    extras_require={
        "test": ["pytest==9.2.0", "pytest-xdist==3.8.0"],
        "lint": ["pylint==4.1.5"],
        "gpu": ["tensorflow[and-cuda]==2.21.0"],
        "bench": ["torch==2.13.0", "matplotlib==3.11.2"],
    },
)
