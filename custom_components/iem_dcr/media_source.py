"""Statements in Home Assistant's media browser, downloaded through an authenticated view.

One flat folder, newest first. Only the statement files of `iem_dcr_exports`
are served, to administrators (statements name drivers and their sessions).
"""

from __future__ import annotations

from http import HTTPStatus
from pathlib import Path

from aiohttp import web
from homeassistant.components.http.const import KEY_HASS_USER
from homeassistant.components.media_player.const import MediaClass
from homeassistant.components.media_source import (
    BrowseMediaSource,
    MediaSource,
    MediaSourceItem,
    PlayMedia,
    Unresolvable,
)
from homeassistant.core import HomeAssistant
from homeassistant.helpers.http import HomeAssistantView

from .const import DOMAIN, EXPORT_DIRECTORY

URL = f"/api/{DOMAIN}/statements"
_SUFFIXES = {".pdf": "application/pdf", ".csv": "text/csv", ".xml": "application/xml"}
_PREFIX = "statement_"


def statement_folder(hass: HomeAssistant) -> Path:
    """Return where create_statement writes."""
    return Path(hass.config.path(EXPORT_DIRECTORY))


def statement_file(folder: Path, name: str) -> Path | None:
    """Return the statement file `name` in `folder`, or None for any other path.

    A name with a folder part, `..`, a leading dot or another suffix is refused
    before the disk is asked: nothing outside the folder can be reached.
    """
    if (
        not name
        or name != Path(name).name
        or "\\" in name
        or name.startswith(".")
        or not name.startswith(_PREFIX)
        or Path(name).suffix.lower() not in _SUFFIXES
    ):
        return None
    path = folder / name
    try:
        if path.resolve().parent != folder.resolve() or not path.is_file():
            return None
    except OSError:
        return None
    return path


def _newest_first(folder: Path) -> list[Path]:
    if not folder.is_dir():
        return []
    files = [
        path
        for path in folder.iterdir()
        if statement_file(folder, path.name) is not None
    ]
    return sorted(
        files, key=lambda path: (path.stat().st_mtime, path.name), reverse=True
    )


async def async_get_media_source(hass: HomeAssistant) -> StatementSource:
    """Set up the statements' media source and their download view."""
    hass.http.register_view(StatementView(statement_folder(hass)))
    return StatementSource(hass)


class StatementSource(MediaSource):
    """The statements of all meters, newest first."""

    name = "IEM-DCR statements"

    def __init__(self, hass: HomeAssistant) -> None:
        """Serve the statements of this Home Assistant."""
        super().__init__(DOMAIN)
        self.hass = hass

    async def async_resolve_media(self, item: MediaSourceItem) -> PlayMedia:
        """Return the download URL of one statement file."""
        folder = statement_folder(self.hass)
        name = item.identifier or ""
        path = await self.hass.async_add_executor_job(statement_file, folder, name)
        if path is None:
            raise Unresolvable(f"No statement {name!r}")
        return PlayMedia(f"{URL}/{name}", _SUFFIXES[path.suffix.lower()])

    async def async_browse_media(self, item: MediaSourceItem) -> BrowseMediaSource:
        """List the statement files (the folder is the only one)."""
        folder = statement_folder(self.hass)
        files = await self.hass.async_add_executor_job(_newest_first, folder)
        return BrowseMediaSource(
            domain=DOMAIN,
            identifier=None,
            media_class=MediaClass.DIRECTORY,
            media_content_type="",
            title=self.name,
            can_play=False,
            can_expand=True,
            children_media_class=MediaClass.URL,
            children=[
                BrowseMediaSource(
                    domain=DOMAIN,
                    identifier=path.name,
                    media_class=MediaClass.URL,
                    media_content_type=_SUFFIXES[path.suffix.lower()],
                    title=path.name,
                    can_play=True,
                    can_expand=False,
                )
                for path in files
            ],
        )


class StatementView(HomeAssistantView):
    """Downloads of statement files; administrators only."""

    url = URL + "/{name}"
    name = f"api:{DOMAIN}:statements"
    requires_auth = True

    def __init__(self, folder: Path) -> None:
        """Serve files of `folder` only."""
        self._folder = folder

    async def get(self, request: web.Request, name: str) -> web.StreamResponse:
        """Return the file, or 401 for a user who is no administrator, 404 else."""
        user = request[KEY_HASS_USER]
        if not user.is_admin:
            return web.Response(status=HTTPStatus.UNAUTHORIZED)
        hass = request.app["hass"]
        path = await hass.async_add_executor_job(statement_file, self._folder, name)
        if path is None:
            return web.Response(status=HTTPStatus.NOT_FOUND)
        return web.FileResponse(
            path,
            headers={
                "Content-Type": _SUFFIXES[path.suffix.lower()],
                "Content-Disposition": f'attachment; filename="{path.name}"',
            },
        )
