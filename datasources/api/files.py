from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status, viewsets
from rest_framework.parsers import MultiPartParser

from datasources.models import StoredFile
from datasources.selectors.files import stored_files_visible_to
from datasources.services.files import stored_file_create, stored_file_delete
from rivergen.api import success
from rivergen.params import MAX_INT64


class StoredFileSerializer(serializers.ModelSerializer):
    organization_id = serializers.IntegerField(read_only=True)

    class Meta:
        model = StoredFile
        fields = ["id", "name", "filename", "size", "content_type", "organization_id", "created_at"]
        read_only_fields = fields


class UploadSerializer(serializers.Serializer):
    file = serializers.FileField(allow_empty_file=True)
    workspace_id = serializers.IntegerField(required=False, min_value=1, max_value=MAX_INT64)


class StoredFileViewSet(viewsets.GenericViewSet):
    lookup_value_regex = r"\d+"
    serializer_class = StoredFileSerializer
    parser_classes = [MultiPartParser]

    def get_queryset(self):
        return stored_files_visible_to(self.request.user)

    @extend_schema(request={"multipart/form-data": UploadSerializer}, responses={201: StoredFileSerializer})
    def create(self, request):
        upload = UploadSerializer(data=request.data)
        upload.is_valid(raise_exception=True)
        stored = stored_file_create(
            actor=request.user, upload=upload.validated_data["file"],
            workspace_id=upload.validated_data.get("workspace_id"),
        )
        return success(StoredFileSerializer(stored).data, "File stored successfully", status.HTTP_201_CREATED)

    @extend_schema(responses={200: StoredFileSerializer(many=True)})
    def list(self, request):
        files = self.get_queryset().order_by("-id")[:1000]
        return success(StoredFileSerializer(files, many=True).data)

    def retrieve(self, request, pk=None):
        return success(StoredFileSerializer(self.get_object()).data)

    @extend_schema(responses={200: None})
    def destroy(self, request, pk=None):
        stored_file_delete(actor=request.user, stored_file=self.get_object())
        return success(None, "File deleted successfully")
