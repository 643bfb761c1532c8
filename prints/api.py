"""The prints endpoints: the caller's prints, newest first."""

from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from obico_api.api.pagination import StandardPagination
from prints import selectors


class PrintOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    printer_id = serializers.IntegerField()
    filename = serializers.CharField()
    status = serializers.CharField()
    started_at = serializers.DateTimeField()
    ended_at = serializers.DateTimeField(allow_null=True)
    prediction_num = serializers.IntegerField(source="prediction_count")


class PrintListApi(APIView):
    def get(self, request):
        paginator = StandardPagination()
        page = paginator.paginate_queryset(selectors.print_list(user=request.user), request, view=self)
        return paginator.get_paginated_response(PrintOutputSerializer(page, many=True).data)


class PrintDetailApi(APIView):
    def get(self, request, print_id):
        return Response(PrintOutputSerializer(selectors.print_get(user=request.user, print_id=print_id)).data)
