from ninja import Router

# Mounted at the API root (/api/v1/): paths are written in full, e.g. "/cities/{code}/calls".
router = Router(tags=["征集与入库"])
