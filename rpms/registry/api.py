from ninja import Router

# Mounted at the API root (/api/v1/): paths are written in full, e.g. "/cities/{code}/pool".
router = Router(tags=["资源库"])
