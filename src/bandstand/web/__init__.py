"""The web app: Bandstand in a browser, served at ``/`` on the API's origin.

Pages are rendered on the server (Jinja2, ``templates/``) from the same services and the
same answer shapes as the JSON API (a song card is ``songs.views.song_view``'s dict), so
no rule is written twice and a page route is as thin as a JSON route. htmx makes every
link and form a partial update of ``<main>`` (``hx-boost``), which is what lets the
player bar, outside ``<main>``, keep playing while a listener moves around. Scripts are
files (``static/app/``, ``static/vendor/``), never inline: the Content-Security-Policy
allows only the site itself.

Each area of the site is a module with its own router (``catalogue``: the feed, search,
songs, artists, playlists; and so on); ``router.py`` gathers them. A page reads who is
calling from the access cookie the login sets (``accounts.deps``); a form post carries
the page's CSRF token (``csrf.py``), on top of the check every cookie-authenticated write
gets (``middleware.CrossSiteWriteMiddleware``).
"""
