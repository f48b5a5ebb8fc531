"""``rag check``: verify the published index without serving it (no model is loaded)."""

from __future__ import annotations

import json

from rag.cli.common import EXIT_NO_INDEX, JsonOpt, app, fail, out, settings_for


@app.command()
def check(as_json: JsonOpt = False) -> None:
    """Verify the index: every file against the size and SHA-256 its manifest recorded, that each part loads
    and agrees with the others, and that the active model and tokenizer can read it.

    Exits 0 when the index is whole, 3 with one sentence naming the damaged file otherwise (the repair is
    `rag ingest --rebuild`).
    """
    from rag.index import BuildSpec, IndexUnavailableError, backend_for
    from rag.tokenize import fingerprint

    settings = settings_for(None)
    backend = backend_for(settings.index)  # a fresh backend: nothing is taken as verified, every file is hashed
    try:
        manifest = backend.check(settings.index)
        spec = BuildSpec(embedding_model=settings.embedding.model.strip(), dim=manifest.dim, tokenizer=fingerprint())
        index = backend.open(settings.index, spec)
        try:
            counts = index.counts()
        finally:
            index.close()
    except IndexUnavailableError as e:
        fail(f"{e}\n(RAG_HOME is {settings.home})", EXIT_NO_INDEX)
    size = sum(f.size for f in manifest.files.values())
    if as_json:
        print(json.dumps({"ok": True, "counts": counts, "files": len(manifest.files), "bytes": size,
                          "manifest": manifest.model_dump(exclude={"files"})}, ensure_ascii=False, indent=2))
        return
    # Locally every file is re-hashed; Milvus holds no files, and its collections' counts are what was checked.
    verified = (f"{len(manifest.files)} files verified ({size / 2**20:.1f} MiB)" if manifest.files
                else f"its {manifest.backend} collections hold what the manifest counts")
    out.print(f"the index is whole: {counts['articles']} articles, {counts['chunks']} chunks, "
              f"{counts.get('sentences', 0)} sentences; {verified}, built {manifest.created_at} with "
              f"{manifest.embedding_model} ({manifest.embedding_precision})")
