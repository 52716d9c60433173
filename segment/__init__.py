"""segment: train, evaluate and apply a small U-Net on a curated dataset folder."""

__version__ = "0.1.0"

from segment.config import ModelSpec, TrainConfig  # noqa: E402
from segment.errors import SegmentError  # noqa: E402

# The notebook API: segment.train, segment.evaluate, segment.predict are the functions.
from segment.training.loop import train  # noqa: E402
from segment.evaluation.scores import LabelOptions, evaluate, evaluate_set  # noqa: E402
from segment.evaluation.predict import predict  # noqa: E402

__all__ = ["TrainConfig", "ModelSpec", "SegmentError", "train", "evaluate", "evaluate_set", "LabelOptions",
           "predict", "__version__"]
