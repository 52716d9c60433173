"""The data card's Croissant 1.0 JSON-LD, with its responsible-AI (RAI 1.0) fields."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from curate import __version__
from curate.cards.facts import UNKNOWN, CardOptions, Facts, counts, known_limitations, source_facts

CROISSANT_CONTEXT = {
    "@language": "en", "@vocab": "https://schema.org/", "sc": "https://schema.org/",
    "cr": "http://mlcommons.org/croissant/", "rai": "http://mlcommons.org/croissant/RAI/",
    "dct": "http://purl.org/dc/terms/", "citeAs": "cr:citeAs", "column": "cr:column",
    "conformsTo": "dct:conformsTo", "data": {"@id": "cr:data", "@type": "@json"},
    "dataType": {"@id": "cr:dataType", "@type": "@vocab"}, "extract": "cr:extract",
    "field": "cr:field", "fileObject": "cr:fileObject", "fileSet": "cr:fileSet",
    "includes": "cr:includes", "recordSet": "cr:recordSet", "source": "cr:source",
    "md5": "cr:md5", "sha256": "cr:sha256",
}


def render_jsonld(facts: Facts, options: CardOptions) -> dict:
    """Croissant 1.0 metadata with its responsible-AI (RAI 1.0) fields."""
    src = source_facts(facts, options)
    c = counts(facts)
    steps = "; ".join(f"{s.index}. curate {s.command} "
                      f"{json.dumps(s.options, ensure_ascii=False, sort_keys=True)}"
                      for s in facts.steps) or UNKNOWN
    augment = facts.step("augment")
    files = [_file_object(facts.path, name, fmt)
             for name, fmt in (("manifest.csv", "text/csv"), ("dataset.json", "application/json"))]
    files += [{"@type": "cr:FileSet", "@id": folder, "name": folder,
               "encodingFormat": "image/png", "includes": f"{folder}/*.png"}
              for folder in ("images", "masks")]
    fields = [_field(name, kind, desc) for name, kind, desc in (
        ("id", "sc:Text", "unique pair id, the file stem of the image and mask"),
        ("image", "sc:Text", "image path relative to the dataset folder"),
        ("mask", "sc:Text", "mask path relative to the dataset folder (labels 0..K-1)"),
        ("split", "sc:Text", "train, val, test, or empty"),
        ("origin", "sc:Text", "original or augmented"))]
    return {
        "@context": CROISSANT_CONTEXT,
        "@type": "sc:Dataset",
        "conformsTo": "http://mlcommons.org/croissant/1.0",
        "name": options.title or facts.name,
        "description": (f"{c['pairs']} image/mask pairs, {facts.meta['num_classes']} classes "
                        f"({', '.join(facts.class_names)}); splits: "
                        + ", ".join(f"{k} {v}" for k, v in c["splits"].items())
                        + f". Source: {src['source']}"),
        "license": src["license"],
        "citeAs": src["citation"],
        "version": f"curate {__version__}",
        "url": UNKNOWN,
        "distribution": files,
        "recordSet": [{"@type": "cr:RecordSet", "@id": "pairs", "name": "pairs",
                       "field": fields}],
        "rai:dataCollection": src["source"],
        "rai:dataCollectionType": ("Observational (rover camera images)" if src["detected"]
                                   else UNKNOWN),
        "rai:dataAnnotationProtocol": ("crowd-sourced labels; see the AI4Mars paper"
                                       if src["detected"] else UNKNOWN),
        "rai:dataAnnotationPlatform": UNKNOWN,
        "rai:annotationsPerItem": UNKNOWN,
        "rai:annotatorDemographics": UNKNOWN,
        "rai:dataPreprocessingProtocol": steps,
        "rai:dataManipulationProtocol": (
            f"{augment.summary.get('new_pairs', UNKNOWN)} training pairs added by curate "
            f"augment {json.dumps(augment.options, sort_keys=True)}; provenance per pair in "
            "manifest.csv (parent_ids, recipe, aug_seed)" if augment else "none recorded"),
        "rai:dataBiases": " ".join(known_limitations(facts)[:1]) or UNKNOWN,
        "rai:dataLimitations": " ".join(known_limitations(facts)),
        "rai:dataUseCases": "training and evaluating semantic segmentation models",
        "rai:personalSensitiveInformation": ("none expected (planetary surface images)"
                                             if src["detected"] else UNKNOWN),
        "rai:dataSocialImpact": UNKNOWN,
        "rai:dataReleaseMaintenancePlan": UNKNOWN,
    }


def _file_object(folder: Path, name: str, fmt: str) -> dict:
    digest = hashlib.sha256((folder / name).read_bytes()).hexdigest()
    return {"@type": "cr:FileObject", "@id": name, "name": name, "contentUrl": name,
            "encodingFormat": fmt, "sha256": digest}


def _field(name: str, kind: str, description: str) -> dict:
    return {"@type": "cr:Field", "@id": f"pairs/{name}", "name": name,
            "description": description, "dataType": kind,
            "source": {"fileObject": {"@id": "manifest.csv"}, "extract": {"column": name}}}
