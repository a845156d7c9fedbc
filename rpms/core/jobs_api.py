"""GET /api/v1/jobs/{id}: a background job's status, progress and result (rpms.core.jobs) for its actor,
superusers and the city administrators of its city; 404 for anyone else."""
from typing import Any

from ninja import Router, Schema

from .api import auth_required
from .jobs import job_json
from .selectors import background_job_get

router = Router(tags=["后台任务"])


class JobErrorOut(Schema):
    code: str
    detail: str
    message: str


@router.get("/{int:job_id}", auth=auth_required, response={200: dict[str, Any], 404: JobErrorOut}, summary="后台任务状态")
def job_detail(request, job_id: int):
    """后台任务（批量导入等）的状态：queued 排队中、running 执行中、done 已完成、failed 失败；progress 为已完成量/总量，
    message 为中文结果或错误说明，result 含结果链接等。仅任务发起人、本市市级管理员和超级管理员可查看，其他人返回 404。"""
    return job_json(background_job_get(user=request.user, job_id=job_id))
