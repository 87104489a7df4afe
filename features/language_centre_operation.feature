# language: vi
Tính năng: Cho phép trung tâm ngoại ngữ, tin học hoạt động giáo dục
  Là cán bộ của Sở Giáo dục và Đào tạo
  Tôi muốn thu phí thẩm định, kiểm tra hồ sơ và kiểm tra thực tế tại trung tâm trước khi trình quyết định
  Để trung tâm được phép hoạt động giáo dục trong 15 ngày làm việc kể từ khi hồ sơ được tiếp nhận

  Kịch bản: Thanh toán phí trực tuyến, kiểm tra thực tế đạt, cho phép hoạt động trước hạn
    Cho thời điểm hiện tại là "2026-02-10 08:00"
    Khi cán bộ một cửa tiếp nhận hồ sơ trực tiếp thủ tục "language_centre_operation" với người nộp "Trung tâm Ngoại ngữ – Tin học Hoa Sen"
    Và thời gian trôi tới "2026-02-10 09:00"
    Và cán bộ một cửa hoàn thành bước "receipt_check" với dữ liệu:
      """
      {"decision": "accept", "checked_documents": ["TP1", "TP2", "TP3", "TP4"]}
      """
    # 15 ngày làm việc từ 09:00 thứ Ba 10/2: 11–13/2 (3 ngày), [16–20/2 nghỉ Tết Bính Ngọ],
    # 23–27/2 (8), 2–6/3 (13), 9/3 (14), thứ Ba 10/3 (15).
    Thì hồ sơ có trạng thái 6
    Và hạn trả kết quả là "2026-03-10 09:00"
    Và công việc đang mở là "pay_fee" của vai trò "citizen"
    Khi thời gian trôi tới "2026-02-10 15:20"
    Và công dân hoàn thành bước "pay_fee" với dữ liệu:
      """
      {"amount": 1000000, "payment_method": "online", "transaction_ref": "DVCQG-260210-000123"}
      """
    # 16 giờ làm việc từ 15:20: 10/2 (1 giờ 40 phút), 11/2 (7,5 giờ), 12/2 thêm 6 giờ 50 phút → 16:20.
    Thì hồ sơ có trạng thái 4
    Và công việc đang mở là "check_dossier" của vai trò "specialist"
    Và hạn xử lý bước "check_dossier" là "2026-02-12 16:20"
    Khi thời gian trôi tới "2026-02-12 10:00"
    Và chuyên viên hoàn thành bước "check_dossier" với dữ liệu:
      """
      {"dossier_valid": true, "check_note": "Đủ thành phần hồ sơ, đội ngũ giáo viên có chứng chỉ phù hợp"}
      """
    Thì công việc đang mở là "onsite_inspection" của vai trò "specialist"
    Khi thời gian trôi tới "2026-02-26 16:00"
    Và chuyên viên hoàn thành bước "onsite_inspection" với dữ liệu:
      """
      {"inspection_date": "2026-02-25", "inspection_passed": true, "minutes_ref": "BB-15/2026/KTTT",
       "findings": "Phòng học, phòng máy tính và thiết bị đáp ứng yêu cầu"}
      """
    Thì công việc đang mở là "inspection_report" của vai trò "specialist"
    Khi thời gian trôi tới "2026-02-27 10:00"
    Và chuyên viên hoàn thành bước "inspection_report" với dữ liệu:
      """
      {"proposal": "permit", "report": "Đề nghị cho phép trung tâm hoạt động giáo dục"}
      """
    Và thời gian trôi tới "2026-03-03 09:00"
    Và lãnh đạo phòng hoàn thành bước "head_review" với dữ liệu:
      """
      {"approved": true}
      """
    Và thời gian trôi tới "2026-03-05 14:00"
    Và lãnh đạo Sở hoàn thành bước "director_decision" với dữ liệu:
      """
      {"permitted": true, "decision_number": "245/QĐ-SGDĐT", "decision_date": "2026-03-05"}
      """
    Thì hồ sơ có trạng thái 9
    Và hồ sơ được xếp loại "early"
    Khi cán bộ một cửa hoàn thành bước "return_result" với dữ liệu:
      """
      {"method": "electronic", "returned_to": "Trung tâm Ngoại ngữ – Tin học Hoa Sen"}
      """
    Thì hồ sơ có trạng thái 10
    Và hồ sơ đã kết thúc
    Và nhật ký hồ sơ có các chuyển trạng thái "1→2, 2→6, 6→4, 4→9, 9→10"
    Và chuỗi băm của nhật ký hồ sơ toàn vẹn

  Kịch bản: Kiểm tra thực tế không đạt, Lãnh đạo Sở không cho phép hoạt động, trả văn bản đúng hạn
    Cho thời điểm hiện tại là "2026-02-10 09:00"
    Khi cán bộ một cửa tiếp nhận hồ sơ trực tiếp thủ tục "language_centre_operation" với người nộp "Trung tâm Tin học Bách Khoa Sài Gòn"
    Và cán bộ một cửa hoàn thành bước "receipt_check" với dữ liệu:
      """
      {"decision": "accept", "checked_documents": ["TP1", "TP2", "TP3", "TP4"]}
      """
    Và công dân hoàn thành bước "pay_fee" với dữ liệu:
      """
      {"amount": 1000000, "payment_method": "desk", "transaction_ref": "BL-0000457"}
      """
    Và chuyên viên hoàn thành bước "check_dossier" với dữ liệu:
      """
      {"dossier_valid": true}
      """
    Và thời gian trôi tới "2026-02-24 15:00"
    Và chuyên viên hoàn thành bước "onsite_inspection" với dữ liệu:
      """
      {"inspection_date": "2026-02-24", "inspection_passed": false, "minutes_ref": "BB-09/2026/KTTT",
       "findings": "Phòng máy tính chỉ có 12 máy, không đủ theo đề án 30 máy; chưa có phòng cháy, chữa cháy"}
      """
    Và chuyên viên hoàn thành bước "inspection_report" với dữ liệu:
      """
      {"proposal": "refuse", "report": "Cơ sở vật chất không đáp ứng"}
      """
    Và thời gian trôi tới "2026-03-02 10:00"
    Và lãnh đạo phòng hoàn thành bước "head_review" với dữ liệu:
      """
      {"approved": false, "comment": "Báo cáo cần nêu rõ căn cứ pháp lý của từng điều kiện không đạt"}
      """
    Thì công việc đang mở là "inspection_report" của vai trò "specialist"
    Khi chuyên viên hoàn thành bước "inspection_report" với dữ liệu:
      """
      {"proposal": "refuse",
       "report": "Không đáp ứng điều kiện về cơ sở vật chất, thiết bị theo quy định; kèm biên bản BB-09/2026/KTTT"}
      """
    Và lãnh đạo phòng hoàn thành bước "head_review" với dữ liệu:
      """
      {"approved": true}
      """
    Thì lãnh đạo Sở không được hoàn thành bước "director_decision" khi thiếu "refusal_reason" với dữ liệu:
      """
      {"permitted": false, "decision_number": "198/SGDĐT-GDTX"}
      """
    # Ký sáng ngày hẹn, trước 09:00: đúng hạn.
    Khi thời gian trôi tới "2026-03-10 08:15"
    Và lãnh đạo Sở hoàn thành bước "director_decision" với dữ liệu:
      """
      {"permitted": false, "decision_number": "198/SGDĐT-GDTX", "decision_date": "2026-03-10",
       "refusal_reason": "Cơ sở vật chất, thiết bị không đáp ứng điều kiện hoạt động giáo dục"}
      """
    Thì hồ sơ có trạng thái 9
    Và hồ sơ được xếp loại "on_time"
    Và kết quả hồ sơ có "permitted" là false
    Khi cán bộ một cửa hoàn thành bước "return_result" với dữ liệu:
      """
      {"method": "in_person", "returned_to": "Đinh Thị Ngọc Anh (giám đốc trung tâm)"}
      """
    Thì hồ sơ có trạng thái 10
    Và nhật ký hồ sơ có các chuyển trạng thái "1→2, 2→6, 6→4, 4→9, 9→10"

  Kịch bản: Hồ sơ trực tuyến thiếu giấy tờ, quá 5 ngày làm việc không bổ sung thì dừng xử lý
    Cho thời điểm hiện tại là "2026-03-02 08:00"
    Khi công dân nộp hồ sơ trực tuyến thủ tục "language_centre_operation" với người nộp "Trung tâm Anh ngữ Quốc tế Phương Nam"
    Và thời gian trôi tới "2026-03-02 10:00"
    Và cán bộ một cửa hoàn thành bước "receipt_check" với dữ liệu:
      """
      {"decision": "supplement", "checked_documents": ["TP1", "TP2", "TP3"], "missing_documents": ["TP4"],
       "reason": "Thiếu chương trình, tài liệu giảng dạy (TP4); bổ sung một lần theo Mẫu 02"}
      """
    Thì hồ sơ có trạng thái 5
    Và việc tiếp nhận được xếp loại "on_time"
    Và hồ sơ không có hạn trả kết quả
    Và công việc đang mở là "receipt_supplement" của vai trò "citizen"
    # Hạn bổ sung tại khâu tiếp nhận working_days(5) kể từ 10:00 thứ Hai 2/3 → 10:00 thứ Hai 9/3.
    Khi thời gian trôi tới "2026-03-09 09:59"
    Và hệ thống kích hoạt các hẹn giờ đến hạn
    Thì hồ sơ có trạng thái 5
    Khi thời gian trôi tới "2026-03-09 10:00"
    Và hệ thống kích hoạt các hẹn giờ đến hạn
    Thì hồ sơ có trạng thái 8
    Và hồ sơ đã kết thúc
    Và nhật ký hồ sơ có các chuyển trạng thái "1→5, 5→8"
