"""The names data settings may take, as plain Python (config validation reads them without loading TensorFlow)."""

import os

from tfgan_eff.lists import comma_list

OFFLINE_DATASETS = ("digits", "shapes")  # built-in sets, each with an offline feature extractor
DIFFAUG_POLICIES = ("color", "translation", "cutout")


def parse_policy(policy):
    """'color,translation' -> ('color', 'translation'); unknown names are an error."""
    names = tuple(comma_list(policy))
    unknown = [p for p in names if p not in DIFFAUG_POLICIES]
    if unknown:
        raise ValueError(f"unknown DiffAugment op(s) {unknown}; choose from {DIFFAUG_POLICIES}")
    return names


def folder_problem(path):
    """Why `path` is not an image folder: "does not exist" or "is a file, not a folder"."""
    return "is a file, not a folder" if os.path.exists(path) else "does not exist"
