"""tfgan_eff: cheaper GANs to find (alphaGAN), compress (DGL-GAN) and train sparse (STU-GAN), in TF 2.21 / Keras 3."""

from setuptools import find_packages, setup

# Versions tested together on Python 3.11 (2 CPU cores, no GPU).
CORE = [
    "keras==3.15.1",
    "absl-py==2.5.1",
    "tensorboard==2.21.0",
    "ml-collections==1.1.0",
    "tensorflow-datasets==4.9.10",
    "ai-edge-litert==2.3.0",
    "numpy>=2.0,<2.5",
    "scipy>=1.13",
    "scikit-learn>=1.5",
    "pillow>=10",
]

setup(
    name="tfgan_eff",
    version="0.1.0",
    description=__doc__,
    packages=find_packages(include=["tfgan_eff", "tfgan_eff.*"]),
    python_requires=">=3.11",
    install_requires=CORE + ['tensorflow-cpu==2.21.0; platform_system != "Darwin"'],
    extras_require={
        "test": ["pytest>=8"],
        # On a CUDA machine: pip install -e .[gpu] (pip then also pulls tensorflow[and-cuda]).
        "gpu": ["tensorflow[and-cuda]==2.21.0"],
        "bench": ["torch==2.13.0"],
    },
)
