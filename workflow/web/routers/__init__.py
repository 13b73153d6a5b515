"""One module per subject, each defining `router` (an `APIRouter`, its paths relative to
`/api/v1`); `workflow.web.app.ROUTERS` lists them."""
