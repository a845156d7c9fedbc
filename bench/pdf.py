"""Times PDF rendering of each document kind (WeasyPrint with Noto CJK): the first render of a process
(fonts load) and warm renders. Prints milliseconds per document and the PDF sizes.

    .venv/bin/python bench/pdf.py [--repeat 5]
"""
import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
os.environ.setdefault("DATABASE_URL", f"sqlite:///{tempfile.mkdtemp()}/bench_pdf.sqlite3")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import transaction

    call_command("migrate", verbosity=0)
    from rpms.geography.reference import reference_data_load
    from rpms.documents.models import DocumentKind
    from rpms.documents.rendering import document_pdf
    from rpms.documents.services import document_issue
    from rpms.documents.tests.conftest import CONTEXT_BUILDERS

    city = {c.code: c for c in reference_data_load(actor=None)}["beijing"]
    documents = []
    with transaction.atomic():
        for kind in DocumentKind:
            builder, title = CONTEXT_BUILDERS[kind]
            documents.append(document_issue(actor=None, city=city, kind=kind, title=title, subject=None,
                                            context=builder(city)))
    started = time.perf_counter()
    document_pdf(documents[0])
    print(f"first render (fonts load): {(time.perf_counter() - started) * 1000:.0f} ms")
    for document in documents:
        times = []
        for _ in range(args.repeat):
            started = time.perf_counter()
            pdf = document_pdf(document)
            times.append((time.perf_counter() - started) * 1000)
        print(f"{document.kind:26s} median {sorted(times)[len(times) // 2]:6.0f} ms  max {max(times):6.0f} ms  "
              f"{len(pdf) / 1024:6.0f} KB")


if __name__ == "__main__":
    main()
