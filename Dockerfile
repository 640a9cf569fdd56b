# One image for the three services: `intake serve parser|validator|notifier`.
# The parser's and validator's hot path is compiled with mypyc (setup.py, INTAKE_COMPILE=1) in a
# build stage that has a compiler; the image itself gets only the wheel.
FROM python:3.11-slim AS build

ENV PIP_NO_CACHE_DIR=1
RUN apt-get update && apt-get install -y --no-install-recommends gcc libc6-dev && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY pyproject.toml setup.py README.md ./
COPY contracts ./contracts
COPY services ./services
# the dependencies first: mypyc type-checks the modules against them
RUN pip install . 'mypy>=1.10' 'setuptools>=70.1' \
 && INTAKE_COMPILE=1 pip wheel --no-deps --no-build-isolation -w /wheels .

FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
# LibreOffice headless converts legacy Word (.doc/.wps) uploads to .docx, once per upload; OpenCV
# (scanned reports, the ocr extra) needs libGL and GLib
RUN apt-get update && apt-get install -y --no-install-recommends libreoffice-writer-nogui libgl1 libglib2.0-0 \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY --from=build /wheels /wheels
RUN pip install "$(ls /wheels/*.whl)[ocr]" && rm -rf /wheels && useradd --system --uid 10001 --home-dir /app intake
COPY samples ./samples

USER 10001
EXPOSE 9464
HEALTHCHECK --interval=15s --timeout=3s --start-period=20s --retries=3 \
  CMD python -c "import urllib.request,sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:9464/healthz', timeout=2).status != 200)"
ENTRYPOINT ["intake"]
CMD ["serve", "all"]
