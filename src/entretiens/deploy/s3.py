"""An S3-compatible bucket as a deploy target, through boto3.

Credentials come only from boto3's own chain (``AWS_ACCESS_KEY_ID``/``AWS_SECRET_ACCESS_KEY``,
``AWS_PROFILE``, ``~/.aws/`` files, instance roles): entretiens never reads, stores or prints
them. Every error is translated into a sentence of our own, so no message can carry a secret.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import TYPE_CHECKING

import boto3
import botocore.exceptions
from boto3.exceptions import S3UploadFailedError
from boto3.s3.transfer import TransferConfig
from botocore.config import Config

from ..errors import DeployError
from ..output import Content
from .headers import Headers
from .targets import Sent, Stored

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

#: Files above this go up in parts (resumable per part, parallel); below, one PUT.
MULTIPART_THRESHOLD = 16 * 1024 * 1024
_CREDENTIALS_HINT = (
    "set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE, as for any S3 tool; "
    "entretiens reads no credentials from its own files"
)
_REFUSED_CREDENTIALS = frozenset(
    {"InvalidAccessKeyId", "SignatureDoesNotMatch", "InvalidToken", "ExpiredToken", "InvalidClientTokenId"}
)


def connect(endpoint_url: str | None, region: str | None) -> S3Client:
    """An S3 client with bounded time per request and bounded retries.

    :param endpoint_url: another provider's S3 endpoint; None lets boto3 decide (AWS, or
        ``AWS_ENDPOINT_URL``).
    """
    config = Config(
        connect_timeout=10,
        read_timeout=60,
        retries={"max_attempts": 3, "mode": "standard"},
        # Path-style addresses work with every S3-compatible service (MinIO, SeaweedFS, R2...);
        # only AWS itself needs virtual-hosted names, and it is used without endpoint_url.
        s3={"addressing_style": "path"} if endpoint_url else {},
        # Not every S3-compatible service accepts the newer default CRC checksums.
        request_checksum_calculation="when_required",
        response_checksum_validation="when_required",
        user_agent_extra="entretiens-deploy",
    )
    try:
        session = boto3.session.Session()
        client: S3Client = session.client("s3", endpoint_url=endpoint_url, region_name=region, config=config)
    except botocore.exceptions.ProfileNotFound as exc:
        profile = exc.kwargs.get("profile")
        raise DeployError(f"AWS_PROFILE names the profile '{profile}', which is not configured") from None
    except ValueError:
        raise DeployError(f"{endpoint_url}: not a usable endpoint URL (write http(s)://host[:port])") from None
    except botocore.exceptions.BotoCoreError as exc:
        raise DeployError(f"cannot set up the S3 client: {type(exc).__name__}") from None
    return client


class S3Target:
    """``s3://BUCKET/PREFIX`` on AWS or any S3-compatible service."""

    def __init__(self, client: S3Client, bucket: str, prefix: str) -> None:
        self.client = client
        self.bucket = bucket
        self.prefix = prefix
        self.description = f"s3://{bucket}/{prefix}"
        self.endpoint = client.meta.endpoint_url

    @contextlib.contextmanager
    def _errors(self, action: str, key: str | None = None) -> Iterator[None]:
        where = f"s3://{self.bucket}/{self.prefix}{key}" if key is not None else self.description
        try:
            yield
        except DeployError:
            raise
        except Exception as exc:
            raise DeployError(f"{where}: {action} failed: {_explain(exc, self.endpoint, self.bucket)}") from None

    def list(self) -> dict[str, Stored]:
        found: dict[str, Stored] = {}
        with self._errors("listing the bucket"):
            pages = self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=self.prefix)
            for page in pages:
                for item in page.get("Contents", []):
                    key = item["Key"][len(self.prefix) :]
                    if key and not key.endswith("/"):
                        found[key] = Stored(int(item["Size"]), item.get("ETag", ""))
        return found

    def read(self, key: str, *, max_bytes: int) -> bytes | None:
        with self._errors("reading", key):
            try:
                answer = self.client.get_object(Bucket=self.bucket, Key=self.prefix + key)
            except botocore.exceptions.ClientError as exc:
                if _code(exc) in ("NoSuchKey", "404", "NotFound"):
                    return None
                raise
            if int(answer["ContentLength"]) > max_bytes:
                answer["Body"].close()
                raise DeployError(f"s3://{self.bucket}/{self.prefix}{key}: larger than {max_bytes} bytes")
            data: bytes = answer["Body"].read()
            return data

    def put(self, key: str, content: Content, headers: Headers, sent: Sent | None = None) -> Stored:
        extra = {"ContentType": headers.content_type, "CacheControl": headers.cache_control}
        full = self.prefix + key
        with self._errors("uploading", key):
            if isinstance(content, bytes):
                self.client.put_object(Bucket=self.bucket, Key=full, Body=content, **extra)  # type: ignore[arg-type]
                if sent:
                    sent(len(content))
            else:
                self.client.upload_file(
                    str(content), self.bucket, full, ExtraArgs=extra, Config=_transfer(), Callback=sent
                )
            head = self.client.head_object(Bucket=self.bucket, Key=full)
        return Stored(int(head["ContentLength"]), head.get("ETag", ""))

    def delete(self, key: str) -> None:
        with self._errors("deleting", key):
            self.client.delete_object(Bucket=self.bucket, Key=self.prefix + key)

    def check_enclosure(self, key: str, length: int) -> str | None:
        full = self.prefix + key
        with self._errors("checking", key):
            try:
                head = self.client.head_object(Bucket=self.bucket, Key=full)
            except botocore.exceptions.ClientError as exc:
                if _code(exc) in ("NoSuchKey", "404", "NotFound"):
                    return "is missing"
                raise
            if int(head["ContentLength"]) != length:
                return f"answers HEAD with Content-Length {head['ContentLength']}, the feed says {length}"
            # Apple requires byte ranges: players seek, and its crawler checks with a ranged GET.
            part = self.client.get_object(Bucket=self.bucket, Key=full, Range="bytes=0-1")
            part["Body"].close()
            status = part["ResponseMetadata"]["HTTPStatusCode"]
            if status != 206:
                return f"answers a ranged GET with {status}, not 206 Partial Content"
            expected = f"bytes 0-{min(1, length - 1)}/{length}"
            if part.get("ContentRange") != expected:
                return f"answers a ranged GET with Content-Range {part.get('ContentRange')!r}, not {expected!r}"
        return None


def _transfer() -> TransferConfig:
    """Parts of MULTIPART_THRESHOLD bytes (S3's minimum part is 5 MiB; 16 MiB keeps a 1 GB file under 100 parts)."""
    return TransferConfig(multipart_threshold=MULTIPART_THRESHOLD, multipart_chunksize=MULTIPART_THRESHOLD)


def _code(exc: botocore.exceptions.ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def _explain(exc: BaseException, endpoint: str, bucket: str) -> str:
    """A sentence about a boto3 failure, built from codes only: never a message that could echo a secret."""
    cause: BaseException | None = exc
    while isinstance(cause, S3UploadFailedError) or (cause is not None and not _known(cause)):
        if cause.__cause__ is None and cause.__context__ is None:
            break
        cause = cause.__cause__ or cause.__context__
    exc = cause or exc
    if isinstance(exc, botocore.exceptions.NoCredentialsError | botocore.exceptions.PartialCredentialsError):
        return f"no credentials found ({_CREDENTIALS_HINT})"
    if isinstance(exc, botocore.exceptions.ClientError):
        code = _code(exc)
        if code in _REFUSED_CREDENTIALS:
            return f"the storage refused the credentials ({code}); {_CREDENTIALS_HINT}"
        if code in ("AccessDenied", "403", "Forbidden"):
            return f"access denied ({code}): the credentials may not write to bucket '{bucket}'"
        if code == "NoSuchBucket":
            return f"the bucket '{bucket}' does not exist at {endpoint} (create it first, or fix deploy.to)"
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", "?")
        return f"the storage answered {status} {code or 'with an error'}"
    if isinstance(exc, botocore.exceptions.EndpointConnectionError | botocore.exceptions.ConnectionClosedError):
        return f"cannot reach the storage at {endpoint} (check deploy.endpoint_url, AWS_ENDPOINT_URL and the network)"
    if isinstance(exc, botocore.exceptions.ConnectTimeoutError | botocore.exceptions.ReadTimeoutError):
        return f"the storage at {endpoint} did not answer in time"
    if isinstance(exc, botocore.exceptions.SSLError):
        return f"the TLS connection to {endpoint} failed (certificate?)"
    if isinstance(exc, OSError):
        return f"a local file could not be read ({exc.strerror or type(exc).__name__})"
    return f"{type(exc).__name__} from the S3 client"


def _known(exc: BaseException) -> bool:
    return isinstance(exc, botocore.exceptions.BotoCoreError | botocore.exceptions.ClientError | OSError)
